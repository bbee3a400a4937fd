package stripe

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventbridge-dev/eventbridge/internal/connector/webhook"
)

// HeaderSignature is the header Stripe signs its deliveries in.
const HeaderSignature = "Stripe-Signature"

type handler struct {
	secret    []byte
	tolerance time.Duration
}

// Verify checks a Stripe-Signature header ("t=<unix>,v1=<hex>[,v1=…]")
// against the raw body: one v1 must be the hex HMAC-SHA256 of
// "<t>.<body>" keyed with the secret, and t must be within tolerance of
// now. Other schemes (v0) are ignored.
func Verify(secret []byte, header string, body []byte, now time.Time, tolerance time.Duration) error {
	if header == "" {
		return fmt.Errorf("%w: the %s header is missing", webhook.ErrMissing, HeaderSignature)
	}
	var ts string
	var sigs []string
	for _, item := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(item), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			if ts == "" {
				ts = v
			}
		case "v1":
			sigs = append(sigs, v)
		}
	}
	if ts == "" || len(sigs) == 0 {
		return fmt.Errorf("%w: %s needs t= and at least one v1=", webhook.ErrSignature, HeaderSignature)
	}
	t, err := webhook.ParseUnix(ts)
	if err != nil {
		return err
	}
	if err := webhook.VerifyHMAC(sha256.New, secret, webhook.Hex, sigs, []byte(ts), []byte("."), body); err != nil {
		return err
	}
	return webhook.CheckTimestamp(now, t, tolerance)
}

// Handle implements webhook.Handler.
func (h *handler) Handle(_ context.Context, req *webhook.Request) (*webhook.Reply, error) {
	if err := Verify(h.secret, req.HTTP.Header.Get(HeaderSignature), req.Body, req.Now, h.tolerance); err != nil {
		return nil, err
	}
	ev, err := Map(req.Body)
	if err != nil {
		return nil, err
	}
	e, err := ev.Build()
	if err != nil {
		return nil, err
	}
	// No replay guard: the id is inside the signed body, so a replay is
	// the same (source, id), which the bus stores once.
	return &webhook.Reply{Events: []*ce.Event{e}}, nil
}

// Map turns a verified Stripe event into a CloudEvent:
//
//	id      = id (evt_…; retries keep it)
//	type    = com.stripe.<type> (com.stripe.payment_intent.succeeded)
//	source  = https://api.stripe.com, plus /accounts/<account> for Connect events
//	subject = data.object.id (snapshot events) or related_object.id (thin events)
//	time    = created (Unix seconds, or RFC 3339 in thin events)
//	data    = the body (application/json)
func Map(body []byte) (*webhook.Event, error) {
	m, err := webhook.ParseObject(body)
	if err != nil {
		return nil, err
	}
	id, typ := webhook.String(m, "id"), webhook.String(m, "type")
	if id == "" || typ == "" {
		return nil, webhook.Invalidf("a Stripe event needs id and type")
	}
	ev := &webhook.Event{
		ID:              id,
		Type:            "com.stripe." + typ,
		Source:          "https://api.stripe.com",
		Subject:         webhook.String(m, "data.object.id"),
		DataContentType: "application/json",
		Data:            body,
	}
	if acct := webhook.String(m, "account"); acct != "" {
		ev.Source += "/accounts/" + acct
	}
	if ev.Subject == "" {
		ev.Subject = webhook.String(m, "related_object.id")
	}
	if t, ok := webhook.Time(m, "created"); ok {
		ev.Time = t
	}
	return ev, nil
}

var _ webhook.Handler = (*handler)(nil)
