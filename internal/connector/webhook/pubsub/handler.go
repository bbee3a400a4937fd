package pubsub

import (
	"context"
	"fmt"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/google/uuid"

	"github.com/eventbridge-dev/eventbridge/internal/connector/webhook"
)

// Headers of unwrapped deliveries with write metadata.
const (
	HeaderMessageID    = "X-Goog-Pubsub-Message-Id"
	HeaderPublishTime  = "X-Goog-Pubsub-Publish-Time"
	HeaderSubscription = "X-Goog-Pubsub-Subscription-Name"
	HeaderOrderingKey  = "X-Goog-Pubsub-Ordering-Key"
)

type handler struct {
	cfg  *Config
	oidc *verifier
}

// Handle implements webhook.Handler.
func (h *handler) Handle(ctx context.Context, req *webhook.Request) (*webhook.Reply, error) {
	if h.oidc != nil {
		tok := webhook.BearerToken(req.HTTP)
		if tok == "" {
			return nil, fmt.Errorf("%w: the subscription sends no token: turn authentication on", webhook.ErrMissing)
		}
		if err := h.oidc.Verify(ctx, tok, req.Now); err != nil {
			return nil, err
		}
	}
	var m *Message
	if h.cfg.Unwrapped {
		m = h.unwrapped(req)
	} else {
		var err error
		if m, err = ParsePush(req.Body); err != nil {
			return nil, err
		}
	}
	e, err := m.Event(h.cfg)
	if err != nil {
		return nil, err
	}
	return &webhook.Reply{Events: []*ce.Event{e}}, nil
}

// unwrapped reads a delivery with payload unwrapping: the body is the
// data; ids, time and ordering key come from the write-metadata headers
// when the subscription sends them.
func (h *handler) unwrapped(req *webhook.Request) *Message {
	hd := req.HTTP.Header
	m := &Message{
		Data:         req.Body,
		ID:           hd.Get(HeaderMessageID),
		PublishTime:  hd.Get(HeaderPublishTime),
		OrderingKey:  hd.Get(HeaderOrderingKey),
		Subscription: hd.Get(HeaderSubscription),
		ContentType:  hd.Get("Content-Type"),
	}
	if m.ID == "" {
		// Without write metadata nothing identifies the message: a new id
		// means a redelivery is stored twice, rather than two messages
		// with the same data once.
		m.ID = uuid.NewString()
	}
	return m
}

var _ webhook.Handler = (*handler)(nil)
