package webhook

import (
	"errors"
	"fmt"
	"strings"

	"github.com/eventbridge-dev/eventbridge/internal/api/problem"
	"github.com/eventbridge-dev/eventbridge/internal/connector"
	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
)

// The sentinels a Handler wraps (with %w) to say why it refuses a request.
// Source turns each into its HTTP answer and its metric reason (the label
// "reason" of eventbridge_events_rejected_total); see Classify.
var (
	// ErrMissing: the signature, token or credentials are absent. 401, reason "missing".
	ErrMissing = errors.New("no signature or credentials")
	// ErrSignature: a signature, token or credential does not match. 401, reason "signature".
	ErrSignature = errors.New("signature does not match")
	// ErrStale: a signed timestamp is outside the tolerance, or a token
	// has expired. 401, reason "stale".
	ErrStale = errors.New("timestamp outside the tolerance")
	// ErrReplay: signed content seen before under another delivery id.
	// 401, reason "replay".
	ErrReplay = errors.New("signed content replayed under another delivery id")
	// ErrForbidden: authentic, but not allowed here (a topic, an
	// audience, an account). 403, reason "forbidden".
	ErrForbidden = errors.New("not allowed")
	// ErrInvalid: the request cannot be read as the vendor's format. 400,
	// reason "invalid".
	ErrInvalid = errors.New("invalid request")
	// ErrTooLarge: the body is over max_body_size. 413, reason "too_large".
	ErrTooLarge = errors.New("body too large")
	// ErrUpstream: a service the check needs (a certificate or key
	// endpoint, the subscription confirmation) failed; the sender should
	// try again. 503 with Retry-After, reason "upstream".
	ErrUpstream = errors.New("upstream service failed")
	// ErrTimeout: the body was not received within read_timeout (408).
	ErrTimeout = errors.New("body not received in time")
)

// Metric reasons, the values of the "reason" label.
const (
	ReasonMissing     = "missing"
	ReasonSignature   = "signature"
	ReasonStale       = "stale"
	ReasonReplay      = "replay"
	ReasonForbidden   = "forbidden"
	ReasonInvalid     = "invalid"
	ReasonTooLarge    = "too_large"
	ReasonMethod      = "method"
	ReasonUpstream    = "upstream"
	ReasonUnavailable = "unavailable"
	ReasonTimeout     = "timeout"
	ReasonBusy        = "busy"
	ReasonExtensions  = "extensions"
)

// ExtensionsError says that an event of a request is over max_extensions
// or max_extension_size; none of the request's events was stored. 400
// too-many-extensions, reason "extensions".
type ExtensionsError struct {
	// Entry is the event's index among those of the request.
	Entry int
	// Batch: the request made more than one event.
	Batch bool
	// Err is connector.ExtensionLimits.CheckExtensions' error.
	Err error
}

func (e *ExtensionsError) Error() string {
	if e.Batch {
		return fmt.Sprintf("event %d: %v", e.Entry, e.Err)
	}
	return e.Err.Error()
}

func (e *ExtensionsError) Unwrap() error { return e.Err }

// BatchError says which entries of a batch are invalid; since a batch is
// all-or-nothing, none was stored. 400 invalid-batch, reason "invalid".
type BatchError struct {
	Fields []problem.FieldError
}

func (e *BatchError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = fmt.Sprintf("[%d].%s: %s", *f.Index, f.Field, f.Reason)
	}
	return "invalid batch: " + strings.Join(parts, "; ")
}

// AddEntry records entry i's problems (the fields of err).
func (e *BatchError) AddEntry(i int, err error) {
	for _, f := range ebevent.Fields(err) {
		e.Fields = append(e.Fields, problem.FieldError{Index: &i, Field: f.Field, Reason: f.Reason})
	}
}

// Err returns e when it holds problems, else nil.
func (e *BatchError) Err() error {
	if len(e.Fields) == 0 {
		return nil
	}
	return e
}

// Classify returns the problem answer and the metric reason for a
// Handler's error. An *ebevent.ValidationError (an event that is not a
// valid CloudEvent) is a 400 invalid-event naming each bad attribute;
// an error wrapping none of the sentinels is a 400 invalid-request.
func Classify(err error) (*problem.Problem, string) {
	var ve *ebevent.ValidationError
	var be *BatchError
	var xe *ExtensionsError
	switch {
	case errors.Is(err, ErrMissing):
		return problem.New(problem.Unauthorized, err.Error()), ReasonMissing
	case errors.Is(err, ErrSignature):
		return problem.New(problem.Unauthorized, err.Error()), ReasonSignature
	case errors.Is(err, ErrStale):
		return problem.New(problem.Unauthorized, err.Error()), ReasonStale
	case errors.Is(err, ErrReplay):
		return problem.New(problem.Unauthorized, err.Error()), ReasonReplay
	case errors.Is(err, ErrForbidden):
		return problem.New(problem.Forbidden, err.Error()), ReasonForbidden
	case errors.Is(err, ErrTooLarge):
		return problem.New(problem.TooLarge, err.Error()), ReasonTooLarge
	case errors.Is(err, ErrTimeout):
		return problem.New(problem.RequestTimeout, err.Error()), ReasonTimeout
	case errors.Is(err, ErrUpstream):
		p := problem.New(problem.Unavailable, err.Error())
		p.RetryAfter = 5
		return p, ReasonUpstream
	case errors.As(err, &xe):
		fe := problem.FieldError{Field: connector.LimitSetting(xe.Err), Reason: xe.Err.Error()}
		if xe.Batch {
			fe.Index = &xe.Entry
		}
		return problem.New(problem.TooManyExtensions, xe.Error()).WithErrors(fe), ReasonExtensions
	case errors.As(err, &be):
		return problem.New(problem.InvalidBatch, "some entries of the batch are invalid; none was stored").WithErrors(be.Fields...), ReasonInvalid
	case errors.As(err, &ve):
		p := problem.New(problem.InvalidEvent, err.Error())
		for _, f := range ve.Fields {
			p.Errors = append(p.Errors, problem.FieldError{Field: f.Field, Reason: f.Reason})
		}
		return p, ReasonInvalid
	}
	return problem.New(problem.InvalidRequest, err.Error()), ReasonInvalid
}

// Invalidf returns an error wrapping ErrInvalid.
func Invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}
