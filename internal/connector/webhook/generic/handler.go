package generic

import (
	"context"
	"encoding/json"
	"mime"
	"strconv"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventbridge-dev/eventbridge/internal/connector/webhook"
)

type handler struct {
	cfg     *Config
	mapping *mapping
	guard   *webhook.ReplayGuard
}

// Handle implements webhook.Handler.
func (h *handler) Handle(ctx context.Context, req *webhook.Request) (*webhook.Reply, error) {
	hd := req.HTTP.Header
	var proof string
	switch a := h.cfg.Auth; {
	case a.HMAC != nil:
		var err error
		if proof, err = a.HMAC.Verify(hd, req.Body, req.Now); err != nil {
			return nil, err
		}
	case a.Bearer != nil:
		if err := webhook.CheckBearer(req.HTTP, a.Bearer.Tokens); err != nil {
			return nil, err
		}
	case a.Basic != nil:
		if err := webhook.CheckBasic(req.HTTP, a.Basic.Username, a.Basic.Password); err != nil {
			return nil, err
		}
	default:
		return nil, webhook.ErrMissing
	}
	in := Input(hd, req.Body)
	ev := &webhook.Event{Data: req.Body, DataContentType: contentType(hd.Get("Content-Type"), req.Body)}
	var err error
	if ev.Type, err = eval(ctx, "type", h.mapping.typ, in); err != nil {
		return nil, err
	}
	if ev.Source, err = eval(ctx, "source", h.mapping.source, in); err != nil {
		return nil, err
	}
	if ev.ID, err = eval(ctx, "id", h.mapping.id, in); err != nil {
		return nil, err
	}
	if ev.ID == "" {
		ev.ID = webhook.BodyID(req.Body)
	}
	if ev.Subject, err = eval(ctx, "subject", h.mapping.subject, in); err != nil {
		return nil, err
	}
	ts, err := eval(ctx, "time", h.mapping.time, in)
	if err != nil {
		return nil, err
	}
	if ts != "" {
		if ev.Time, err = parseTime(ts); err != nil {
			return nil, err
		}
	}
	e, err := ev.Build()
	if err != nil {
		return nil, err
	}
	// The id may come from headers the signature does not cover.
	if err := h.guard.Check(req.Now, proof, e.Source()+"\x00"+e.ID()); err != nil {
		return nil, err
	}
	return &webhook.Reply{Events: []*ce.Event{e}}, nil
}

// contentType is the request's, when it is a media type; else JSON for a
// JSON body, else bytes.
func contentType(ct string, body []byte) string {
	if _, _, err := mime.ParseMediaType(ct); err == nil {
		return ct
	}
	if json.Valid(body) {
		return "application/json"
	}
	return "application/octet-stream"
}

func parseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 && n <= 253402300799 {
		return time.Unix(n, 0), nil
	}
	return time.Time{}, webhook.Invalidf("event.time: %q is neither RFC 3339 nor Unix seconds", s)
}

var _ webhook.Handler = (*handler)(nil)
