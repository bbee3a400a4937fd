package eventbridge

import (
	"context"
	"encoding/json"
	"mime"
	"strings"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventbridge-dev/eventbridge/internal/connector/webhook"
	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
)

type handler struct {
	cfg   *Config
	check checker
}

// Handle implements webhook.Handler: credentials first, then the body as
// an EventBridge envelope, a CloudEvent (JSON format), or wrapped.
func (h *handler) Handle(ctx context.Context, req *webhook.Request) (*webhook.Reply, error) {
	if err := h.check(ctx, req.HTTP, req.Now); err != nil {
		return nil, err
	}
	e, err := h.decode(req)
	if err != nil {
		return nil, err
	}
	return &webhook.Reply{Events: []*ce.Event{e}}, nil
}

func (h *handler) decode(req *webhook.Request) (*ce.Event, error) {
	ct := req.HTTP.Header.Get("Content-Type")
	mt, _, _ := mime.ParseMediaType(ct)
	switch {
	case strings.HasPrefix(mt, "application/cloudevents") || isCloudEvent(req.Body):
		return ebevent.DecodeJSON(req.Body)
	case IsEnvelope(req.Body):
		ev, err := FromEnvelope(req.Body)
		if err != nil {
			return nil, err
		}
		return ev.Build()
	case h.cfg.Wrap != nil:
		return h.cfg.Wrap.Event(req.Body, ct, ""), nil
	}
	return nil, webhook.Invalidf("the body is neither an EventBridge event nor a CloudEvent; set wrap to take other bodies")
}

// isCloudEvent reports whether body is a JSON object with specversion.
func isCloudEvent(body []byte) bool {
	var probe struct {
		SpecVersion json.RawMessage `json:"specversion"`
	}
	return json.Unmarshal(body, &probe) == nil && probe.SpecVersion != nil
}

var _ webhook.Handler = (*handler)(nil)
