// Package client is a Go client of the eventbridge REST API (/v1).
//
// It stands alone: the types below copy the JSON shapes the API serves, so
// a program can use it without the bridge's internal packages.
//
//	c, err := client.New("http://127.0.0.1:8080", client.WithToken(tok))
//	rules, err := client.Collect(c.All(ctx, client.KindRule, nil))
//
// Every method is safe for concurrent use. Errors the API answers are a
// *Error holding its problem document; check them with errors.As or with
// IsNotFound, IsConflict and the like. Transport errors are returned as the
// HTTP client gave them, wrapped.
package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// Client talks to one bridge. Create it with New.
type Client struct {
	base      *url.URL
	hc        *http.Client
	token     string
	userAgent string
	timeout   time.Duration
}

// Option configures a Client.
type Option func(*options)

type options struct {
	token             string
	hc                *http.Client
	caFile, cert, key string
	tls               bool
	userAgent         string
	timeout           time.Duration
}

// WithToken sends Authorization: Bearer token with every request.
func WithToken(token string) Option { return func(o *options) { o.token = token } }

// WithHTTPClient uses hc instead of a client of its own. Options that
// change the transport (WithTLS) apply to a copy of hc's transport, which
// must then be an *http.Transport (or nil).
func WithHTTPClient(hc *http.Client) Option { return func(o *options) { o.hc = hc } }

// WithTLS trusts the CA certificates in the PEM file caFile (empty: the
// system's roots) and, when certFile and keyFile are set, presents that
// client certificate (mutual TLS).
func WithTLS(caFile, certFile, keyFile string) Option {
	return func(o *options) { o.tls, o.caFile, o.cert, o.key = true, caFile, certFile, keyFile }
}

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option { return func(o *options) { o.userAgent = ua } }

// WithTimeout bounds each request (not Stream, which runs until its ctx
// ends). Zero, the default, leaves requests bounded by their ctx only.
func WithTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// New returns a client of the bridge at baseURL ("http://127.0.0.1:8080";
// a path prefix is kept, for a bridge behind a proxy). It fails on a
// malformed URL or unreadable TLS files.
func New(baseURL string, opts ...Option) (*Client, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil {
		return nil, fmt.Errorf("client: server URL %q: %w", baseURL, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("client: server URL %q: want http://host:port or https://host:port", baseURL)
	}
	hc := &http.Client{}
	if o.hc != nil {
		copied := *o.hc
		hc = &copied
	}
	if o.tls {
		tc, err := tlsConfig(o.caFile, o.cert, o.key)
		if err != nil {
			return nil, err
		}
		var tr *http.Transport
		switch t := hc.Transport.(type) {
		case nil:
			tr = http.DefaultTransport.(*http.Transport).Clone()
		case *http.Transport:
			tr = t.Clone()
		default:
			return nil, fmt.Errorf("client: WithTLS needs an *http.Transport, not %T", hc.Transport)
		}
		tr.TLSClientConfig = tc
		hc.Transport = tr
	}
	ua := o.userAgent
	if ua == "" {
		ua = "eventbridge-client-go"
	}
	return &Client{base: u, hc: hc, token: o.token, userAgent: ua, timeout: o.timeout}, nil
}

func tlsConfig(caFile, certFile, keyFile string) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("client: CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("client: CA file %s: no PEM certificates", caFile)
		}
		tc.RootCAs = pool
	}
	if (certFile == "") != (keyFile == "") {
		return nil, errors.New("client: a client certificate needs both the certificate and the key file")
	}
	if certFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("client: client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// BaseURL returns the bridge's URL as given to New.
func (c *Client) BaseURL() string { return c.base.String() }

// request describes one call.
type request struct {
	method string
	path   string // under the base URL, escaped
	query  url.Values
	body   any // JSON-encoded unless nil; json.RawMessage and []byte go as they are
	header http.Header
}

// newRequest builds an *http.Request.
func (c *Client) newRequest(ctx context.Context, r request) (*http.Request, error) {
	target := c.base.String() + r.path
	if len(r.query) > 0 {
		target += "?" + r.query.Encode()
	}
	var body io.Reader
	if r.body != nil {
		var b []byte
		switch v := r.body.(type) {
		case json.RawMessage:
			b = v
		case []byte:
			b = v
		default:
			var err error
			if b, err = json.Marshal(v); err != nil {
				return nil, fmt.Errorf("client: encode request: %w", err)
			}
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, target, body)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	for k, v := range r.header {
		req.Header[k] = v
	}
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	return req, nil
}

// do sends r and decodes a 2xx JSON answer into out (when not nil). It
// returns the response's headers and status.
func (c *Client) do(ctx context.Context, r request, out any) (http.Header, int, error) {
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	req, err := c.newRequest(ctx, r)
	if err != nil {
		return nil, 0, err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("client: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return resp.Header, resp.StatusCode, errorFrom(resp)
	}
	if out != nil && resp.StatusCode != http.StatusNoContent {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			return resp.Header, resp.StatusCode, fmt.Errorf("client: %s %s: decode answer: %w", r.method, r.path, err)
		}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.Header, resp.StatusCode, nil
}

// seg escapes one path segment.
func seg(s string) string { return url.PathEscape(s) }
