package eventgrid

import (
	"context"
	"encoding/json"
	"mime"
	"net/http"
	"strings"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventbridge-dev/eventbridge/internal/connector/webhook"
	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
)

// Headers and event types of Event Grid.
const (
	HeaderEventType       = "aeg-event-type"
	HeaderRequestOrigin   = "WebHook-Request-Origin"
	HeaderAllowedOrigin   = "WebHook-Allowed-Origin"
	HeaderAllowedRate     = "WebHook-Allowed-Rate"
	ValidationEventType   = "Microsoft.EventGrid.SubscriptionValidationEvent"
	validationHeaderValue = "SubscriptionValidation"
)

type handler struct {
	cfg *Config
}

// Handle implements webhook.Handler.
func (h *handler) Handle(_ context.Context, req *webhook.Request) (*webhook.Reply, error) {
	if req.HTTP.Method == http.MethodOptions {
		return h.handshake(req.HTTP), nil
	}
	mt, _, _ := mime.ParseMediaType(req.HTTP.Header.Get("Content-Type"))
	if code, ok := validationCode(req.HTTP.Header, mt, req.Body); ok {
		return validationReply(code)
	}
	// Validation only grants consent; every delivery needs the key.
	if h.cfg.Key != "" {
		if err := webhook.CheckToken(req.HTTP.Header.Get(h.cfg.KeyHeader), h.cfg.Key); err != nil {
			return nil, err
		}
	}
	events, err := Decode(mt, req.Body)
	if err != nil {
		return nil, err
	}
	return &webhook.Reply{Events: events}, nil
}

// handshake answers the CloudEvents webhook abuse-protection pre-flight
// (cloudevents/spec http-webhook.md §4), which validates a subscription
// in the CloudEvents schema.
func (h *handler) handshake(r *http.Request) *webhook.Reply {
	hd := http.Header{"Allow": {"POST, OPTIONS"}}
	origin := r.Header.Get(HeaderRequestOrigin)
	if origin == "" {
		return &webhook.Reply{Status: http.StatusNoContent, Header: hd}
	}
	for _, o := range h.cfg.AllowedOrigins {
		if o == "*" || strings.EqualFold(o, origin) {
			hd.Set(HeaderAllowedOrigin, origin)
			hd.Set(HeaderAllowedRate, h.cfg.AllowedRate)
			break
		}
	}
	// Without the headers, the answer withholds consent.
	return &webhook.Reply{Status: http.StatusOK, Header: hd}
}

// validationCode returns the code of a SubscriptionValidationEvent: a
// one-entry Event Grid batch, flagged by aeg-event-type or its event type.
func validationCode(hd http.Header, mt string, body []byte) (string, bool) {
	if strings.HasPrefix(mt, "application/cloudevents") {
		return "", false
	}
	var batch []struct {
		EventType string `json:"eventType"`
		Data      struct {
			ValidationCode string `json:"validationCode"`
		} `json:"data"`
	}
	if json.Unmarshal(body, &batch) != nil || len(batch) != 1 {
		return "", false
	}
	if batch[0].EventType != ValidationEventType && hd.Get(HeaderEventType) != validationHeaderValue {
		return "", false
	}
	return batch[0].Data.ValidationCode, true
}

// validationReply echoes the code, as Event Grid expects:
// 200 {"validationResponse": "<code>"}.
func validationReply(code string) (*webhook.Reply, error) {
	if code == "" {
		return nil, webhook.Invalidf("the subscription validation event has no data.validationCode")
	}
	b, err := json.MarshalIndent(map[string]string{"validationResponse": code}, "", "  ")
	if err != nil {
		return nil, err
	}
	return &webhook.Reply{
		Status: http.StatusOK,
		Header: http.Header{"Content-Type": {"application/json"}},
		Body:   append(b, '\n'),
	}, nil
}

// Decode reads a delivery: a CloudEvent or a batch of them (CloudEvents
// schema), or an array of Event Grid events; an array may mix both. The
// batch is all or nothing: one bad entry refuses it (a *webhook.BatchError).
func Decode(mt string, body []byte) ([]*ce.Event, error) {
	cloudEventsOnly := false
	switch mt {
	case "application/cloudevents-batch+json":
		cloudEventsOnly = true
	case "application/cloudevents+json":
		e, err := decodeCloudEvent(body)
		if err != nil {
			return nil, err
		}
		return []*ce.Event{e}, nil
	}
	trimmed := strings.TrimSpace(string(body))
	if strings.HasPrefix(trimmed, "{") && !cloudEventsOnly {
		if !isCloudEvent(body) {
			return nil, webhook.Invalidf("an Event Grid schema delivery is a JSON array of events")
		}
		e, err := decodeCloudEvent(body)
		if err != nil {
			return nil, err
		}
		return []*ce.Event{e}, nil
	}
	var entries []json.RawMessage
	if err := json.Unmarshal(body, &entries); err != nil {
		return nil, webhook.Invalidf("not a JSON array of events: %v", err)
	}
	if len(entries) == 0 {
		return nil, webhook.Invalidf("an empty batch")
	}
	out := make([]*ce.Event, 0, len(entries))
	var be webhook.BatchError
	for i, raw := range entries {
		var e *ce.Event
		var err error
		if cloudEventsOnly || isCloudEvent(raw) {
			e, err = decodeCloudEvent(raw)
		} else {
			e, err = fromEventGrid(raw)
		}
		if err != nil {
			be.AddEntry(i, err)
			continue
		}
		out = append(out, e)
	}
	if err := be.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// decodeCloudEvent reads one event of the CloudEvents schema. Event Grid
// writes "subject": "" for an event published without a subject (Azure's
// own SDK test data does), which CloudEvents forbids (a subject, when
// present, is non-empty): it is read as no subject rather than refused for
// good, which would send every such delivery to the dead-letter place.
func decodeCloudEvent(raw []byte) (*ce.Event, error) {
	var members map[string]json.RawMessage
	if json.Unmarshal(raw, &members) == nil && string(members["subject"]) == `""` {
		delete(members, "subject")
		if b, err := json.Marshal(members); err == nil {
			raw = b
		}
	}
	return ebevent.DecodeJSON(raw)
}

func isCloudEvent(raw []byte) bool {
	var probe struct {
		SpecVersion json.RawMessage `json:"specversion"`
	}
	return json.Unmarshal(raw, &probe) == nil && probe.SpecVersion != nil
}

var _ webhook.Handler = (*handler)(nil)
