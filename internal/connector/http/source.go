package http

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	nethttp "net/http"
	"strconv"
	"strings"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/eventbridge-dev/eventbridge/internal/api/problem"
	"github.com/eventbridge-dev/eventbridge/internal/bus"
	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/httpsrc"
	"github.com/eventbridge-dev/eventbridge/internal/connector/intake"
	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
	"github.com/eventbridge-dev/eventbridge/internal/httplimit"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
	"github.com/eventbridge-dev/eventbridge/internal/telemetry"
)

// SourceConfig configures an http source.
type SourceConfig struct {
	connector.Common `yaml:",inline"`
	// Endpoint: path (default /events), listen, timeout, read_timeout,
	// max_connections.
	httpsrc.Endpoint `yaml:",inline"`
	// MaxEventSize limits one event (body plus attribute headers). Default 1MiB.
	MaxEventSize spec.ByteSize `json:"max_event_size,omitempty"`
	// MaxBatchSize limits a batch body. Default 10MiB.
	MaxBatchSize spec.ByteSize `json:"max_batch_size,omitempty"`
	// MaxBatchEvents limits the entries of a batch. Default 1000.
	MaxBatchEvents int `json:"max_batch_events,omitempty"`
	// ExtensionLimits: max_extensions (default 100) and max_extension_size
	// (default 64KiB) bound the extension attributes of one event.
	connector.ExtensionLimits
	// Wrap turns a plain (non-CloudEvents) POST into a CloudEvent with a
	// generated id, the current time, and this type and source.
	Wrap *Wrap `json:"wrap,omitempty"`
	// Token, when set, is required as "Authorization: Bearer <token>" or
	// the access_token query parameter (the CloudEvents webhook spec).
	Token spec.Secret `json:"token,omitempty"`
	// AllowedOrigins answer the webhook validation handshake
	// (WebHook-Request-Origin). Default ["*"]: every origin.
	AllowedOrigins []string `json:"allowed_origins,omitempty"`
	// AllowedRate is the WebHook-Allowed-Rate granted (requests per
	// minute, or "*"). Default "*".
	AllowedRate string `json:"allowed_rate,omitempty"`
}

// Wrap is how plain requests become events.
type Wrap struct {
	Type   string `json:"type"`
	Source string `json:"source"`
}

// Defaults implements connector.Config.
func (c *SourceConfig) Defaults() {
	c.FillHTTPDefaults("/events")
	if c.MaxEventSize == 0 {
		c.MaxEventSize = 1 << 20
	}
	if c.MaxBatchSize == 0 {
		c.MaxBatchSize = 10 << 20
	}
	if c.MaxBatchEvents == 0 {
		c.MaxBatchEvents = 1000
	}
	c.FillExtensionDefaults()
	if len(c.AllowedOrigins) == 0 {
		c.AllowedOrigins = []string{"*"}
	}
	if c.AllowedRate == "" {
		c.AllowedRate = "*"
	}
}

// Validate implements connector.Config.
func (c *SourceConfig) Validate(p spec.Problems) {
	c.ValidateHTTP(p)
	if c.MaxEventSize < 1024 {
		p.AddAt("max_event_size", "must be at least 1KiB")
	}
	if c.MaxBatchSize < c.MaxEventSize {
		p.AddAt("max_batch_size", "must be at least max_event_size")
	}
	if c.MaxBatchEvents < 1 {
		p.AddAt("max_batch_events", "must be at least 1")
	}
	c.ValidateExtensionLimits(p)
	if c.Wrap != nil {
		if c.Wrap.Type == "" {
			p.AddAt("wrap.type", "required: the type of wrapped events")
		}
		if c.Wrap.Source == "" {
			p.AddAt("wrap.source", "required: the source of wrapped events")
		}
	}
	if c.AllowedRate != "*" {
		if n, err := strconv.Atoi(c.AllowedRate); err != nil || n < 1 {
			p.AddAt("allowed_rate", "must be a positive number of requests per minute, or \"*\"")
		}
	}
}

// StorageFullRetryAfter is the Retry-After, in seconds, of a 507 answered
// while the bus has no storage left.
const StorageFullRetryAfter = 5

// PausedRetryAfter is the Retry-After, in seconds, of the 503 a paused
// source answers.
const PausedRetryAfter = 5

// Source receives CloudEvents over HTTP.
type Source struct {
	name string
	cfg  *SourceConfig
	deps connector.Deps
	log  *slog.Logger
	// fails logs stores that fail for another reason than a bus outage
	// (which the bus logs) once per change of state, not per request.
	fails *intake.Failures

	received prometheus.Counter
	rejected *prometheus.CounterVec

	component.Tracker
	// Server is the source's Start, Stop and ServeHTTP (the CloudEvents
	// HTTP binding).
	*httpsrc.Server
}

func newSource(name string, c connector.Config, deps connector.Deps) (connector.Source, error) {
	cfg := c.(*SourceConfig)
	s := &Source{name: name, cfg: cfg, deps: deps, log: deps.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.fails = intake.NewFailures(s.log.With("source", name), "the sender is answered 503 and sends them again")
	s.received = deps.Metrics.Received.WithLabelValues(name)
	s.rejected = deps.Metrics.Rejected.MustCurryWith(prometheus.Labels{"source": name})
	s.Server = httpsrc.NewServer(name, &s.Tracker, &cfg.Endpoint, deps.HTTP, s.serve)
	s.Set(component.New, nil)
	return s, nil
}

func (s *Source) serve(w nethttp.ResponseWriter, r *nethttp.Request) {
	switch r.Method {
	case nethttp.MethodOptions:
		s.handshake(w, r)
		return
	case nethttp.MethodPost, nethttp.MethodPut:
	default:
		w.Header().Set("Allow", "POST, PUT, OPTIONS")
		problem.Write(w, r, problem.MethodNotAllowed, "send events with POST")
		return
	}
	if s.cfg.Token != "" && !s.authorized(r) {
		s.rejected.WithLabelValues("unauthorized").Inc()
		w.Header().Set("WWW-Authenticate", `Bearer realm="eventbridge"`)
		problem.Write(w, r, problem.Unauthorized, "this source needs a bearer token")
		return
	}
	events, perr := s.decode(w, r)
	if perr != nil {
		perr.Write(w, r)
		return
	}
	ctx := r.Context()
	span := trace.SpanFromContext(ctx) // records nothing
	if s.traces(r, events) {
		// The ingest span continues the trace of the request (W3C headers)
		// or of the event; events without a trace context get this one.
		ctx = otel.GetTextMapPropagator().Extract(ctx, propagation.HeaderCarrier(r.Header))
		if len(events) == 1 {
			ctx = telemetry.EventContext(ctx, events[0])
		}
		parent := ctx
		if telemetry.TracingOn() {
			ctx, span = telemetry.Tracer().Start(ctx, "ingest "+s.name, trace.WithSpanKind(trace.SpanKindServer),
				trace.WithAttributes(attribute.Int("eventbridge.events", len(events))))
		}
		// The extension keeps the trace the producer started; without
		// one, the trace starts here.
		start := parent
		if !trace.SpanContextFromContext(parent).IsValid() {
			start = ctx
		}
		for _, e := range events {
			telemetry.SetEventContext(start, e)
		}
	}
	defer span.End()
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout.D())
	defer cancel()
	if err := s.deps.Ingest.Ingest(ctx, s.name, events); err != nil {
		span.RecordError(err)
		if errors.Is(err, bus.ErrStorageFull) {
			// The bus logs the change of state once; not every refusal.
			s.rejected.WithLabelValues("storage_full").Add(float64(len(events)))
			p := problem.New(problem.StorageFull, "the disk of the bridge's store is full (its /readyz names the cause): the events were not stored; send them again later")
			p.RetryAfter = StorageFullRetryAfter
			p.Write(w, r)
			return
		}
		if errors.Is(err, connector.ErrSourcePaused) {
			s.rejected.WithLabelValues("paused").Add(float64(len(events)))
			p := problem.New(problem.Unavailable, "source "+s.name+" is paused: the events were not stored; send them again later")
			p.RetryAfter = PausedRetryAfter
			p.Write(w, r)
			return
		}
		s.rejected.WithLabelValues("unavailable").Add(float64(len(events)))
		p := problem.New(problem.Unavailable, "the events were not stored; send them again")
		p.RetryAfter = 1
		if bus.IsUnavailable(err) {
			// No stream leader for now: the bus logs the outage once.
			p.RetryAfter = bus.UnavailableRetryAfter
		} else {
			s.fails.Failed(len(events), err)
		}
		p.Write(w, r)
		return
	}
	s.fails.Stored()
	w.WriteHeader(nethttp.StatusAccepted)
}

// traces reports whether the trace context of r or of its events has
// anything to do: a span to record (tracing on), or a trace context of the
// request (W3C headers) to write into events that carry none. With
// tracing off, a request without traceparent, or whose events all carry
// their own, has none, and its contexts are not built (they cost
// allocations on every request).
func (s *Source) traces(r *nethttp.Request, events []*ce.Event) bool {
	if telemetry.TracingOn() {
		return true
	}
	if r.Header.Get("Traceparent") == "" {
		return false
	}
	for _, e := range events {
		if _, ok := ebevent.Extension(e, telemetry.ExtTraceparent); !ok {
			return true
		}
	}
	return false
}

func (s *Source) decode(w nethttp.ResponseWriter, r *nethttp.Request) ([]*ce.Event, *problem.Problem) {
	mode, err := detectMode(r.Header.Get("Content-Type"))
	if err != nil {
		s.rejected.WithLabelValues("media_type").Inc()
		return nil, problem.New(problem.UnsupportedMediaType, fmt.Sprintf("content type %q: only the JSON event format is supported (%s, %s), or binary mode", r.Header.Get("Content-Type"), MediaStructured, MediaBatch))
	}
	limit := int64(s.cfg.MaxEventSize)
	if mode == ModeBatch {
		limit = int64(s.cfg.MaxBatchSize)
	}
	rb := r.Body
	if r.ContentLength <= 0 || r.ContentLength > limit {
		// A body of unknown length (or none), or longer than the limit:
		// read up to the limit. One of a known length within it needs no
		// reader of its own (an allocation per request): the server's
		// reader ends it there, and readBody bounds one that goes on.
		rb = nethttp.MaxBytesReader(w, r.Body, limit)
	}
	body, err := readBody(rb, r.ContentLength, limit)
	if err != nil {
		var mbe *nethttp.MaxBytesError
		if errors.As(err, &mbe) {
			s.rejected.WithLabelValues("too_large").Inc()
			return nil, problem.New(problem.TooLarge, fmt.Sprintf("the limit is %d bytes", limit))
		}
		if httplimit.IsTimeout(err) {
			s.rejected.WithLabelValues("timeout").Inc()
			w.Header().Set("Connection", "close")
			return nil, problem.New(problem.RequestTimeout, fmt.Sprintf("the body was not read within %s (read_timeout)", s.cfg.ReadTimeout.D()))
		}
		s.rejected.WithLabelValues("read").Inc()
		return nil, problem.New(problem.InvalidRequest, "cannot read the body: "+err.Error())
	}
	if e, ok, err := s.cfg.Decode(body); ok {
		if err != nil {
			s.rejected.WithLabelValues("invalid").Inc()
			return nil, invalid(err)
		}
		s.received.Inc()
		return []*ce.Event{e}, nil
	}
	switch mode {
	case ModeBatch:
		events, err := s.limits().DecodeJSONBatch(body)
		if p := s.overLimit(err, problem.TooManyExtensions); p != nil {
			return nil, p
		}
		if err != nil {
			s.rejected.WithLabelValues("invalid").Inc()
			return nil, problem.New(problem.InvalidBatch, err.Error()).WithErrors(batchFieldErrors(err)...)
		}
		var tooBig []problem.FieldError
		for i, e := range events {
			if n := eventSize(e); n > int64(s.cfg.MaxEventSize) {
				tooBig = append(tooBig, problem.FieldError{Index: ptr(i), Field: "data", Reason: fmt.Sprintf("event of %d bytes is over the limit of %d", n, s.cfg.MaxEventSize)})
			}
		}
		if len(tooBig) > 0 {
			s.rejected.WithLabelValues("too_large").Add(float64(len(events)))
			return nil, problem.New(problem.TooLarge, "some events of the batch are over the size limit; none was accepted").WithErrors(tooBig...)
		}
		s.received.Add(float64(len(events)))
		return events, nil
	case ModeStructured:
		e, err := s.limits().DecodeJSON(body)
		return s.one(e, err, problem.TooManyExtensions)
	}
	if !hasBinaryHeaders(r.Header) && s.cfg.Wrap != nil {
		s.received.Inc()
		return []*ce.Event{s.wrap(r, body)}, nil
	}
	if headerBytes(r.Header)+int64(len(body)) > int64(s.cfg.MaxEventSize) {
		s.rejected.WithLabelValues("too_large").Inc()
		return nil, problem.New(problem.TooLarge, fmt.Sprintf("the limit is %d bytes, attribute headers included", s.cfg.MaxEventSize))
	}
	e, err := decodeBinary(r.Header, body, s.limits())
	return s.one(e, err, problem.HeadersTooLarge)
}

// one is the answer to a request of one event, decoded with err: the
// event, or the problem (of kind ext when the event is over a limit).
func (s *Source) one(e *ce.Event, err error, ext problem.Kind) ([]*ce.Event, *problem.Problem) {
	if p := s.overLimit(err, ext); p != nil {
		return nil, p
	}
	if err != nil {
		s.rejected.WithLabelValues("invalid").Inc()
		return nil, invalid(err)
	}
	s.received.Inc()
	return []*ce.Event{e}, nil
}

// readBody reads a request body. When the request says how long it is
// (within limit), the buffer is made that size at once, one byte more to
// see the end, instead of growing from 512 bytes; a body longer than it
// said (which net/http's server does not give) is read up to limit, and
// more is a *http.MaxBytesError.
func readBody(body io.Reader, length, limit int64) ([]byte, error) {
	if length <= 0 || length > limit {
		return io.ReadAll(body)
	}
	buf := make([]byte, 0, length+1)
	for {
		n, err := body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
		if len(buf) == cap(buf) { // longer than it said: read the rest, up to limit
			rest, err := io.ReadAll(io.LimitReader(body, limit+1-int64(len(buf))))
			buf = append(buf, rest...)
			if err == nil && int64(len(buf)) > limit {
				err = &nethttp.MaxBytesError{Limit: limit}
			}
			return buf, err
		}
	}
}

// limits are the source's limits on one request.
func (s *Source) limits() ebevent.Limits {
	l := s.cfg.EventLimits()
	l.MaxBatchEntries = s.cfg.MaxBatchEvents
	return l
}

// overLimit is the problem for err when it is an *ebevent.LimitError (nil
// otherwise): a batch with too many entries is too large (413); too many or
// too large extensions are ext, naming the setting that limits them.
func (s *Source) overLimit(err error, ext problem.Kind) *problem.Problem {
	var le *ebevent.LimitError
	if !errors.As(err, &le) {
		return nil
	}
	var setting string
	switch {
	case errors.Is(err, ebevent.ErrTooManyEntries):
		s.rejected.WithLabelValues("too_large").Inc()
		return problem.New(problem.TooLarge, le.Error()+" (max_batch_events)")
	case errors.Is(err, ebevent.ErrTooManyExtensions):
		setting = "max_extensions"
	default:
		setting = "max_extension_size"
	}
	s.rejected.WithLabelValues("extensions").Inc()
	p := problem.New(ext, le.Error()+" ("+setting+")")
	fe := problem.FieldError{Field: setting, Reason: le.Error()}
	if le.Entry >= 0 {
		fe.Index = ptr(le.Entry)
	}
	return p.WithErrors(fe)
}

func (s *Source) wrap(r *nethttp.Request, body []byte) *ce.Event {
	e := ce.New()
	e.SetID(uuid.NewString())
	e.SetType(s.cfg.Wrap.Type)
	e.SetSource(s.cfg.Wrap.Source)
	e.SetTime(time.Now().UTC())
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		ct = "application/octet-stream"
	}
	e.SetDataContentType(ct)
	ebevent.SetBinaryData(&e, body)
	return &e
}

// handshake answers the CloudEvents webhook abuse-protection pre-flight.
func (s *Source) handshake(w nethttp.ResponseWriter, r *nethttp.Request) {
	h := w.Header()
	h.Set("Allow", "POST, PUT, OPTIONS")
	origin := r.Header.Get("WebHook-Request-Origin")
	if origin == "" {
		w.WriteHeader(nethttp.StatusNoContent)
		return
	}
	granted := ""
	for _, o := range s.cfg.AllowedOrigins {
		if o == "*" || strings.EqualFold(o, origin) {
			granted = origin
			break
		}
	}
	if granted == "" {
		// No consent: the absence of the headers says so.
		w.WriteHeader(nethttp.StatusOK)
		return
	}
	h.Set("WebHook-Allowed-Origin", granted)
	h.Set("WebHook-Allowed-Rate", s.cfg.AllowedRate)
	w.WriteHeader(nethttp.StatusOK)
}

func (s *Source) authorized(r *nethttp.Request) bool {
	tok := ""
	if a := r.Header.Get("Authorization"); len(a) > 7 && strings.EqualFold(a[:7], "bearer ") {
		tok = a[7:]
	} else {
		tok = r.URL.Query().Get("access_token")
	}
	return tok != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(s.cfg.Token.Value())) == 1
}

func invalid(err error) *problem.Problem {
	p := problem.New(problem.InvalidEvent, err.Error())
	for _, f := range ebevent.Fields(err) {
		p.Errors = append(p.Errors, problem.FieldError{Field: f.Field, Reason: f.Reason})
	}
	return p
}

// batchFieldErrors splits "[3].id" fields into index and field.
func batchFieldErrors(err error) []problem.FieldError {
	var out []problem.FieldError
	for _, f := range ebevent.Fields(err) {
		fe := problem.FieldError{Field: f.Field, Reason: f.Reason}
		if strings.HasPrefix(f.Field, "[") {
			if end := strings.IndexByte(f.Field, ']'); end > 0 {
				if i, err := strconv.Atoi(f.Field[1:end]); err == nil {
					fe.Index = ptr(i)
					fe.Field = strings.TrimPrefix(f.Field[end+1:], ".")
				}
			}
		}
		out = append(out, fe)
	}
	return out
}

func headerBytes(h nethttp.Header) int64 {
	var n int64
	for k, vs := range h {
		if len(k) > 3 && strings.EqualFold(k[:3], "ce-") {
			for _, v := range vs {
				n += int64(len(k) + len(v))
			}
		}
	}
	return n
}

func eventSize(e *ce.Event) int64 {
	n := int64(len(e.Data()))
	for k, v := range ebevent.BinaryAttributes(e) {
		n += int64(len(k) + len(v))
	}
	return n
}

func ptr[T any](v T) *T { return &v }

var (
	_ connector.Source = (*Source)(nil)
	_ connector.Config = (*SourceConfig)(nil)
	_ nethttp.Handler  = (*Source)(nil)
)

// AnswersRequests marks a source that stays up while paused and refuses
// what is sent (connector.RequestSource).
func (s *Source) AnswersRequests() {}

var _ connector.RequestSource = (*Source)(nil)
