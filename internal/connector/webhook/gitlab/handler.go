package gitlab

import (
	"context"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventbridge-dev/eventbridge/internal/connector/webhook"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

// Header names GitLab sends.
const (
	HeaderToken       = "X-Gitlab-Token"
	HeaderEvent       = "X-Gitlab-Event"
	HeaderEventUUID   = "X-Gitlab-Event-UUID"
	HeaderIdempotency = "Idempotency-Key"
	HeaderInstance    = "X-Gitlab-Instance"
)

type handler struct {
	secret spec.Secret
	guard  *webhook.ReplayGuard
}

func newHandler(c *Config) *handler {
	return &handler{secret: c.Secret, guard: webhook.NewReplayGuard(webhook.ReplayWindow, webhook.ReplayEntries)}
}

// Handle implements webhook.Handler.
func (h *handler) Handle(_ context.Context, req *webhook.Request) (*webhook.Reply, error) {
	hd := req.HTTP.Header
	if err := webhook.CheckToken(hd.Get(HeaderToken), h.secret); err != nil {
		return nil, err
	}
	ev, err := Map(Delivery{
		Event:       hd.Get(HeaderEvent),
		Idempotency: hd.Get(HeaderIdempotency),
		EventUUID:   hd.Get(HeaderEventUUID),
		Instance:    hd.Get(HeaderInstance),
	}, req.Body, req.Now)
	if err != nil {
		return nil, err
	}
	e, err := ev.Build()
	if err != nil {
		return nil, err
	}
	// The token does not cover the body, and the ids are headers: a
	// captured body sent again under a new id is a replay.
	if err := h.guard.Check(req.Now, webhook.BodyID(req.Body), e.Source()+"\x00"+e.ID()); err != nil {
		return nil, err
	}
	return &webhook.Reply{Events: []*ce.Event{e}}, nil
}

var _ webhook.Handler = (*handler)(nil)
