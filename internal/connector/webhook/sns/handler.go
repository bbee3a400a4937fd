package sns

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventbridge-dev/eventbridge/internal/connector/webhook"
	"github.com/eventbridge-dev/eventbridge/internal/connector/webhook/eventbridge"
	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
)

// Headers SNS sends.
const (
	HeaderMessageType     = "x-amz-sns-message-type"
	HeaderSubscriptionArn = "x-amz-sns-subscription-arn"
	HeaderRawDelivery     = "x-amz-sns-rawdelivery"
)

type handler struct {
	cfg    *Config
	certs  *certCache
	client *http.Client
	guard  *webhook.ReplayGuard
	log    *slog.Logger
}

// Handle implements webhook.Handler: cheap checks first (format, topic),
// then the signature (which may fetch a certificate), then the message.
func (h *handler) Handle(ctx context.Context, req *webhook.Request) (*webhook.Reply, error) {
	hd := req.HTTP.Header
	if strings.EqualFold(hd.Get(HeaderRawDelivery), "true") {
		return nil, fmt.Errorf("%w: raw message delivery is not signed; turn it off on the subscription", webhook.ErrMissing)
	}
	m, err := ParseMessage(req.Body)
	if err != nil {
		return nil, err
	}
	if t := hd.Get(HeaderMessageType); t != "" && t != m.Type {
		return nil, webhook.Invalidf("%s %q but the message is a %s", HeaderMessageType, t, m.Type)
	}
	if len(h.cfg.TopicARNs) > 0 && !slices.Contains(h.cfg.TopicARNs, m.TopicArn) {
		return nil, fmt.Errorf("%w: topic %s is not in topic_arns", webhook.ErrForbidden, m.TopicArn)
	}
	if err := m.Verify(ctx, h.certs, req.Now); err != nil {
		return nil, err
	}
	if m.Type == TypeSubscription && h.cfg.AutoConfirm {
		return h.confirm(ctx, m)
	}
	e, err := h.event(m, hd, req.Body)
	if err != nil {
		return nil, err
	}
	// The subscription ARN header (part of the source) is not signed.
	if err := h.guard.Check(req.Now, m.Signature, e.Source()+"\x00"+e.ID()); err != nil {
		return nil, err
	}
	return &webhook.Reply{Events: []*ce.Event{e}}, nil
}

// confirm visits SubscribeURL, which must be on an SNS host.
func (h *handler) confirm(ctx context.Context, m *Message) (*webhook.Reply, error) {
	u, err := CheckSNSURL(m.SubscribeURL)
	if err != nil {
		return nil, webhook.Invalidf("SubscribeURL %q is not an https URL on an SNS host; not visited", m.SubscribeURL)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("%w: confirm subscription: %v", webhook.ErrUpstream, err)
	}
	res, err := h.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: confirm subscription: %v", webhook.ErrUpstream, err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	res.Body.Close()
	if res.StatusCode/100 != 2 {
		return nil, fmt.Errorf("%w: confirm subscription: SNS answered %d", webhook.ErrUpstream, res.StatusCode)
	}
	if h.log != nil {
		h.log.Info("confirmed the SNS subscription", "topic", m.TopicArn)
	}
	return &webhook.Reply{Status: http.StatusOK}, nil
}

// event maps a verified message, per the CloudEvents AWS SNS adapter
// (cloudevents/spec cloudevents/adapters/aws-sns.md):
//
//	id      = MessageId (the signed copy of x-amz-sns-message-id)
//	source  = TopicArn for SubscriptionConfirmation; the subscription ARN
//	          (x-amz-sns-subscription-arn, when it is one of TopicArn's)
//	          for Notification and UnsubscribeConfirmation, else TopicArn
//	type    = com.amazonaws.sns.<Type>
//	subject = Subject (notifications that have one)
//	time    = Timestamp
//	data    = the whole SNS message (application/json)
//
// With unwrap, a notification whose Message is a CloudEvent in the JSON
// format is that event, and one whose Message is an EventBridge event is
// mapped as the eventbridge source maps it.
func (h *handler) event(m *Message, hd http.Header, body []byte) (*ce.Event, error) {
	if m.Type == TypeNotification && (h.cfg.Unwrap == nil || *h.cfg.Unwrap) {
		msg := []byte(m.Message)
		switch {
		case isCloudEvent(msg):
			return ebevent.DecodeJSON(msg)
		case eventbridge.IsEnvelope(msg):
			ev, err := eventbridge.FromEnvelope(msg)
			if err != nil {
				return nil, err
			}
			return ev.Build()
		}
	}
	ev := &webhook.Event{
		ID:              m.MessageID,
		Source:          m.TopicArn,
		Type:            "com.amazonaws.sns." + m.Type,
		DataContentType: "application/json",
		Data:            body,
	}
	if sub := hd.Get(HeaderSubscriptionArn); m.Type != TypeSubscription && strings.HasPrefix(sub, m.TopicArn+":") {
		ev.Source = sub
	}
	if m.Subject != nil && *m.Subject != "" {
		ev.Subject = *m.Subject
	}
	if m.Timestamp != "" {
		t, err := time.Parse(time.RFC3339Nano, m.Timestamp)
		if err != nil {
			return nil, webhook.Invalidf("Timestamp %q is not ISO 8601", m.Timestamp)
		}
		ev.Time = t
	}
	return ev.Build()
}

func isCloudEvent(b []byte) bool {
	var probe struct {
		SpecVersion *string `json:"specversion"`
	}
	return json.Unmarshal(b, &probe) == nil && probe.SpecVersion != nil
}

var _ webhook.Handler = (*handler)(nil)
