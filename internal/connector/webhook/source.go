package webhook

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/eventbridge-dev/eventbridge/internal/api/problem"
	"github.com/eventbridge-dev/eventbridge/internal/bus"
	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/httpsrc"
	"github.com/eventbridge-dev/eventbridge/internal/connector/intake"
	"github.com/eventbridge-dev/eventbridge/internal/httplimit"
	"github.com/eventbridge-dev/eventbridge/internal/telemetry"
)

// Request is one delivery as a Handler sees it.
type Request struct {
	// HTTP is the request; its body has been read into Body.
	HTTP *http.Request
	// Body is the raw body, exactly as received (signatures are computed
	// over it), at most max_body_size bytes.
	Body []byte
	// Now is the source's clock at arrival.
	Now time.Time
}

// Reply is what a Handler makes of a request.
type Reply struct {
	// Events are stored (all or none) before anything is answered; when
	// they cannot be, the answer is 503 with Retry-After instead.
	Events []*ce.Event
	// Status is the answer once the events are stored. Default 202.
	Status int
	// Header is added to the answer.
	Header http.Header
	// Body is the answer's body (set its Content-Type in Header).
	Body []byte
}

// Handler verifies one request and turns it into events, or into an
// answer of its own (a validation handshake). It is called concurrently.
// Its error wraps one of the sentinels of errors.go (or is an
// *ebevent.ValidationError); Classify turns it into the answer. ctx ends
// when the client goes away.
type Handler interface {
	Handle(ctx context.Context, req *Request) (*Reply, error)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, req *Request) (*Reply, error)

// Handle implements Handler.
func (f HandlerFunc) Handle(ctx context.Context, req *Request) (*Reply, error) { return f(ctx, req) }

// Options are what a source type adds to its Endpoint.
type Options struct {
	// Methods are the HTTP methods served. Default POST.
	Methods []string
	// Clock gives Request.Now. Default time.Now; tests inject a fake.
	Clock func() time.Time
	// Challenge is the WWW-Authenticate header of 401 answers (HTTP
	// requires one). Default `Signature realm="eventbridge"`.
	Challenge string
}

// Source is a webhook source: an HTTP endpoint that reads a body within
// the limit, hands it to its Handler, stores the events the Handler
// returns and only then answers 2xx. It is the component every webhook
// source type returns.
type Source struct {
	name      string
	ep        *Endpoint
	deps      connector.Deps
	h         Handler
	methods   []string
	clock     func() time.Time
	challenge string
	log       *slog.Logger
	// fails logs stores that fail for another reason than a bus outage
	// (which the bus logs) once per change of state, not per request.
	fails *intake.Failures

	received prometheus.Counter
	rejected *prometheus.CounterVec

	component.Tracker
	// Server is the source's Start, Stop and ServeHTTP.
	*httpsrc.Server
}

// NewSource returns a source named name, of type typ, serving ep with h.
func NewSource(name, typ string, ep *Endpoint, deps connector.Deps, h Handler, o Options) *Source {
	if len(o.Methods) == 0 {
		o.Methods = []string{http.MethodPost}
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Challenge == "" {
		o.Challenge = `Signature realm="eventbridge"`
	}
	if deps.Metrics == nil {
		deps.Metrics = telemetry.NewMetrics()
	}
	log := deps.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Source{
		name: name, ep: ep, deps: deps, h: h, methods: o.Methods, clock: o.Clock, challenge: o.Challenge,
		log:      log.With("source", name, "type", typ),
		received: deps.Metrics.Received.WithLabelValues(name),
		rejected: deps.Metrics.Rejected.MustCurryWith(prometheus.Labels{"source": name}),
	}
	s.fails = intake.NewFailures(s.log, "the sender is answered 503 and sends them again")
	s.Server = httpsrc.NewServer(name, &s.Tracker, &ep.Endpoint, deps.HTTP, s.serve)
	s.Set(component.New, nil)
	return s
}

func (s *Source) serve(w http.ResponseWriter, r *http.Request) {
	if !slices.Contains(s.methods, r.Method) {
		s.rejected.WithLabelValues(ReasonMethod).Inc()
		w.Header().Set("Allow", strings.Join(s.methods, ", "))
		problem.Write(w, r, problem.MethodNotAllowed, "use "+strings.Join(s.methods, " or "))
		return
	}
	body, err := ReadBody(w, r, int64(s.ep.MaxBodySize))
	if err != nil {
		s.refuse(w, r, err)
		return
	}
	reply, err := s.h.Handle(r.Context(), &Request{HTTP: r, Body: body, Now: s.clock()})
	if err == nil {
		err = s.checkExtensions(reply.Events)
	}
	if err != nil {
		s.refuse(w, r, err)
		return
	}
	if len(reply.Events) > 0 {
		s.received.Add(float64(len(reply.Events)))
		ctx, cancel := context.WithTimeout(r.Context(), s.ep.Timeout.D())
		err := s.deps.Ingest.Ingest(ctx, s.name, reply.Events)
		cancel()
		if errors.Is(err, connector.ErrSourcePaused) {
			s.rejected.WithLabelValues("paused").Add(float64(len(reply.Events)))
			p := problem.New(problem.Unavailable, "source "+s.name+" is paused: the events were not stored; send them again later")
			p.RetryAfter = 5
			p.Write(w, r)
			return
		}
		if err != nil {
			s.rejected.WithLabelValues(ReasonUnavailable).Add(float64(len(reply.Events)))
			p := problem.New(problem.Unavailable, "the events were not stored; send them again")
			p.RetryAfter = 1
			if bus.IsUnavailable(err) {
				// No stream leader for now: the bus logs the outage once.
				p.RetryAfter = bus.UnavailableRetryAfter
			} else {
				s.fails.Failed(len(reply.Events), err)
			}
			p.Write(w, r)
			return
		}
		s.fails.Stored()
	}
	for k, vs := range reply.Header {
		w.Header()[k] = vs
	}
	status := reply.Status
	if status == 0 {
		status = http.StatusAccepted
	}
	w.WriteHeader(status)
	_, _ = w.Write(reply.Body)
}

// checkExtensions checks every event against max_extensions and
// max_extension_size, whatever the handler built them from: the request
// is refused at the first event over a limit (an *ExtensionsError).
func (s *Source) checkExtensions(events []*ce.Event) error {
	for i, e := range events {
		if err := s.ep.CheckExtensions(e); err != nil {
			return &ExtensionsError{Entry: i, Batch: len(events) > 1, Err: err}
		}
	}
	return nil
}

// refuse answers err as a problem document and counts it.
func (s *Source) refuse(w http.ResponseWriter, r *http.Request, err error) {
	p, reason := Classify(err)
	s.rejected.WithLabelValues(reason).Inc()
	s.log.Debug("request refused", "reason", reason, "err", err)
	if p.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", s.challenge)
	}
	if reason == ReasonTimeout {
		w.Header().Set("Connection", "close")
	}
	p.Write(w, r)
}

// ReadBody reads r's body, at most limit bytes; a longer body is
// ErrTooLarge.
func ReadBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, fmt.Errorf("%w: the limit is %d bytes", ErrTooLarge, limit)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, fmt.Errorf("%w: the limit is %d bytes", ErrTooLarge, limit)
		}
		if httplimit.IsTimeout(err) {
			return nil, fmt.Errorf("%w (read_timeout)", ErrTimeout)
		}
		return nil, Invalidf("cannot read the body: %v", err)
	}
	return body, nil
}

var (
	_ connector.Source = (*Source)(nil)
	_ http.Handler     = (*Source)(nil)
)

// AnswersRequests marks a source that stays up while paused and refuses
// what is sent (connector.RequestSource).
func (s *Source) AnswersRequests() {}

var _ connector.RequestSource = (*Source)(nil)
