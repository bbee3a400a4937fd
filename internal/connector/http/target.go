package http

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	nethttp "net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"

	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/connector"
	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
	"github.com/eventbridge-dev/eventbridge/internal/httpauth"
	"github.com/eventbridge-dev/eventbridge/internal/netguard"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
	"github.com/eventbridge-dev/eventbridge/pkg/connector/batch"
	"github.com/eventbridge-dev/eventbridge/pkg/stdwebhooks"
)

// TargetConfig configures an http target.
type TargetConfig struct {
	connector.Common `yaml:",inline"`
	// URL receives the events.
	URL string `json:"url"`
	// Mode is binary (ce- headers, body = data; default), structured (body
	// = the JSON event format), data (body = data only, no ce- headers) or
	// batch (several events per request, as a JSON array:
	// application/cloudevents-batch+json; see Batch).
	Mode Mode `json:"mode,omitempty"`
	// Batch bounds the requests of mode batch: max_events, max_bytes,
	// linger.
	Batch *batch.Spec `json:"batch,omitempty"`
	// Signing signs every request the Standard Webhooks way.
	Signing *Signing `json:"signing,omitempty"`
	// Method is POST (default) or PUT.
	Method string `json:"method,omitempty"`
	// Headers are added to every request. Values may be secret references.
	Headers map[string]spec.Secret `json:"headers,omitempty"`
	// Timeout bounds one request. Default 10s.
	Timeout spec.Duration `json:"timeout,omitempty"`
	// MaxConns limits connections to the URL's host. Default 0: no limit.
	MaxConns int `json:"max_conns,omitempty"`
	// TLS configures https URLs.
	TLS connector.TLS `json:"tls,omitempty"`
	// BlockPrivate refuses to connect to loopback, link-local, private and
	// other non-public addresses (checked on every connection, after DNS).
	// Targets created through the API are held to it whatever it says,
	// unless api.allow_private_addresses is set.
	BlockPrivate bool `json:"block_private,omitempty"`
	// Auth adds credentials to every request (basic, bearer, api_key,
	// oauth2 client credentials).
	Auth *httpauth.Config `json:"auth,omitempty"`
	// rate_limit and circuit_breaker are in connector.Common: every
	// target kind has them, and delivery enforces them.
}

// Defaults implements connector.Config.
func (c *TargetConfig) Defaults() {
	if c.Mode == "" {
		c.Mode = ModeBinary
	}
	if c.Method == "" {
		c.Method = nethttp.MethodPost
	}
	if c.Timeout == 0 {
		c.Timeout = spec.Duration(10 * time.Second)
	}
	if c.Mode == ModeBatch && c.Batch == nil {
		c.Batch = &batch.Spec{}
	}
	if c.Batch != nil {
		c.Batch.Defaults()
	}
	c.outboundDefaults()
}

// Validate implements connector.Config.
func (c *TargetConfig) Validate(p spec.Problems) {
	connector.ValidateHTTPURL(p, "url", c.URL)
	switch c.Mode {
	case ModeBinary, ModeStructured, ModeData, ModeBatch:
	default:
		p.AddAt("mode", "must be binary, structured, data or batch, not %q", c.Mode)
	}
	if c.Batch != nil {
		if c.Mode != ModeBatch {
			p.AddAt("batch", "only with mode batch")
		}
		c.Batch.Validate(p.At("batch"))
	}
	if c.Signing != nil {
		c.Signing.validate(p.At("signing"))
	}
	if c.Method != nethttp.MethodPost && c.Method != nethttp.MethodPut {
		p.AddAt("method", "must be POST or PUT")
	}
	if c.Timeout.D() <= 0 {
		p.AddAt("timeout", "must be positive")
	}
	c.TLS.Validate(p.At("tls"))
	for name := range c.Headers {
		if strings.HasPrefix(strings.ToLower(name), "ce-") {
			p.AddAt("headers."+name, "ce- headers carry event attributes and cannot be set here")
		}
		if c.Signing != nil && isWebhookHeader(name) {
			p.AddAt("headers."+name, "signing sets this header")
		}
	}
	c.validateOutbound(p)
}

// OutboundAddresses implements connector.Outbound.
func (c *TargetConfig) OutboundAddresses() []connector.Address {
	out := []connector.Address{{Field: "url", Value: c.URL}}
	return append(out, c.Auth.OutboundAddresses("auth")...)
}

// Target delivers events with HTTP requests.
type Target struct {
	name   string
	cfg    *TargetConfig
	url    *url.URL // cfg.URL, parsed once
	client *nethttp.Client
	log    *slog.Logger
	out    *outbound
	// signer signs requests (nil: signing is not set).
	signer *stdwebhooks.Signer
	// batcher gathers Send calls into requests in mode batch, from Start
	// to Stop (nil in the other modes).
	batcher atomic.Pointer[batch.Batcher[batchItem]]
	component.Tracker
}

func newTarget(name string, c connector.Config, deps connector.Deps) (connector.Target, error) {
	cfg := c.(*TargetConfig)
	tc, err := cfg.TLS.Config()
	if err != nil {
		return nil, err
	}
	guard := deps.Guard
	if guard == nil && cfg.BlockPrivate {
		guard = netguard.Strict
	}
	// The guard holds every connection, the OAuth2 token requests' too
	// (they share the client); the transport uses no proxy.
	dialer := guard.Dialer(&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second})
	tr := &nethttp.Transport{
		Proxy:               nil,
		DialContext:         dialer.DialContext,
		TLSClientConfig:     tc,
		MaxIdleConns:        1024,
		MaxIdleConnsPerHost: 1024,
		MaxConnsPerHost:     cfg.MaxConns,
		IdleConnTimeout:     90 * time.Second,
		ForceAttemptHTTP2:   true,
	}
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("url: %w", err)
	}
	t := &Target{
		name: name, cfg: cfg, url: u, log: deps.Logger,
		client: &nethttp.Client{
			Transport: tr,
			Timeout:   cfg.Timeout.D(),
			// The webhook spec: a sender MUST NOT follow redirects.
			CheckRedirect: func(*nethttp.Request, []*nethttp.Request) error { return nethttp.ErrUseLastResponse },
		},
	}
	t.out = newOutbound(cfg, t.client)
	if t.signer, err = cfg.Signing.signer(); err != nil {
		return nil, fmt.Errorf("signing: %w", err)
	}
	t.Set(component.New, nil)
	return t, nil
}

// Start implements component.Component.
func (t *Target) Start(context.Context) error {
	if t.cfg.Mode == ModeBatch {
		t.batcher.Store(batch.New(t.cfg.Batch.Config(), t.flushBatch))
	}
	t.Set(component.Running, nil)
	return nil
}

// Stop sends the open batch (mode batch), waits within ctx for the
// batches being sent, and closes idle connections.
func (t *Target) Stop(ctx context.Context) error {
	if b := t.batcher.Swap(nil); b != nil {
		_ = b.Close(ctx)
	}
	t.client.CloseIdleConnections()
	t.Set(component.Terminated, nil)
	return nil
}

// Send implements connector.Target. 2xx is delivered; 408, 429 and 5xx are
// retryable (honouring Retry-After); other statuses, redirects included,
// are permanent. rate_limit and circuit_breaker are enforced by delivery,
// around Send.
func (t *Target) Send(ctx context.Context, e *ce.Event) (err error) {
	if t.cfg.Mode == ModeBatch {
		return t.sendBatched(ctx, e)
	}
	req, rctx, cancel := t.newRequest(ctx)
	defer cancel()
	h := req.Header
	var body []byte
	switch t.cfg.Mode {
	case ModeStructured:
		b, err := ebevent.EncodeJSON(e)
		if err != nil {
			return connector.Permanent(fmt.Errorf("encode: %w", err))
		}
		body = b
		h.Set("Content-Type", MediaStructured+"; charset=utf-8")
	case ModeData:
		body = e.Data()
		ct := e.DataContentType()
		if ct == "" {
			ct = "application/json"
		}
		h.Set("Content-Type", ct)
	default:
		body = encodeBinary(e, h)
	}
	msgID := ""
	if t.signer != nil { // a hash of source and id: only signing needs it
		msgID = WebhookID(e)
	}
	return t.do(rctx, req, body, msgID)
}

// newRequest returns a request to the target's URL, with no body yet, and
// its context (ctx bounded by the timeout).
//
// The request is built by hand rather than by NewRequest (the URL was
// parsed once, the headers are written straight into the request) and
// goes to the transport, not through Client.Do: a redirect is never
// followed (the webhook spec: a sender MUST NOT), so the client's
// redirect machinery would only copy the request and its headers.
func (t *Target) newRequest(ctx context.Context) (*nethttp.Request, context.Context, context.CancelFunc) {
	rctx, cancel := context.WithTimeout(ctx, t.cfg.Timeout.D())
	// Every request shares the parsed URL: neither the transport nor the
	// authenticators (headers only) change it.
	req := (&nethttp.Request{
		Method: t.cfg.Method, URL: t.url, Host: t.url.Host,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: make(nethttp.Header, 8+len(t.cfg.Headers)),
	}).WithContext(rctx)
	return req, rctx, cancel
}

// do adds the configured headers, the signature (of msgID and body) and
// the credentials to req, sends it with body, and classifies the outcome.
func (t *Target) do(ctx context.Context, req *nethttp.Request, body []byte, msgID string) error {
	for k, v := range t.cfg.Headers {
		req.Header.Set(k, v.Value())
	}
	t.sign(req.Header, msgID, body)
	setBody(req, body)
	if err := t.out.auth.Apply(ctx, req); err != nil {
		return fmt.Errorf("http %s: %w", t.cfg.Method, err)
	}
	// The W3C headers carry this hop's span; ce-traceparent (binary mode)
	// keeps the trace the event started.
	otel.GetTextMapPropagator().Inject(ctx, propagation.HeaderCarrier(req.Header))
	resp, err := t.client.Transport.RoundTrip(req)
	if err != nil {
		err = &url.Error{Op: t.cfg.Method, URL: t.cfg.URL, Err: err}
		if errors.Is(err, netguard.ErrForbidden) {
			return connector.Permanent(fmt.Errorf("http %s: %w", t.cfg.Method, err))
		}
		return fmt.Errorf("http %s: %w", t.cfg.Method, err)
	}
	// The body is read to its end (up to drainLimit) before it is closed,
	// whatever the status: a body left unread closes the connection, and
	// the next request opens another (a burst of 503 pages with it).
	defer drain(resp.Body)
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
	serr := &connector.StatusError{Code: resp.StatusCode, Err: fmt.Errorf("HTTP %d %s: %s", resp.StatusCode, nethttp.StatusText(resp.StatusCode), strings.TrimSpace(string(snippet)))}
	switch {
	case resp.StatusCode == nethttp.StatusUnauthorized && t.out.auth.Reject():
		return serr // a new token may be accepted
	case resp.StatusCode == nethttp.StatusTooManyRequests || resp.StatusCode == nethttp.StatusServiceUnavailable:
		if d, ok := retryAfter(resp.Header.Get("Retry-After")); ok {
			return connector.RetryAfter(serr, d)
		}
		return serr
	case resp.StatusCode == nethttp.StatusRequestTimeout || resp.StatusCode >= 500:
		return serr
	default:
		return connector.Permanent(serr)
	}
}

// drainLimit is the most of a response body read to keep its connection:
// a longer one is cut off, and its connection closed.
const drainLimit = 64 << 10

// drain reads what is left of a response body (up to drainLimit) and
// closes it, so that the transport can reuse the connection.
func drain(body io.ReadCloser) {
	if body == nethttp.NoBody { // 204, 304, HEAD: nothing to read
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(body, drainLimit))
	_ = body.Close()
}

// setBody gives req body the way NewRequest does for a byte slice: a
// known length, and GetBody so the transport can send it again on a
// reused connection that was closed under it.
//
// The body must be a reader the transport knows to be in memory (a
// *bytes.Reader in an io.NopCloser: see isKnownInMemoryReader in
// net/http): for any other, it flushes the headers before it copies the
// body, and every delivery then takes two writes and two packets instead
// of one.
func setBody(req *nethttp.Request, body []byte) {
	req.ContentLength = int64(len(body))
	if len(body) == 0 {
		req.Body, req.GetBody = nethttp.NoBody, noBody
		return
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
}

func noBody() (io.ReadCloser, error) { return nethttp.NoBody, nil }

// retryAfter parses a Retry-After value: seconds or an HTTP date.
func retryAfter(v string) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 0 {
		return time.Duration(n) * time.Second, true
	}
	if t, err := nethttp.ParseTime(v); err == nil {
		return max(time.Until(t), 0), true
	}
	return 0, false
}

var (
	_ connector.Target   = (*Target)(nil)
	_ connector.Config   = (*TargetConfig)(nil)
	_ connector.Outbound = (*TargetConfig)(nil)
)
