package github

import (
	"context"
	"crypto/sha256"
	"fmt"
	"mime"
	"net/url"
	"strings"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventbridge-dev/eventbridge/internal/connector/webhook"
)

// Header names GitHub sends.
const (
	HeaderSignature = "X-Hub-Signature-256"
	HeaderEvent     = "X-GitHub-Event"
	HeaderDelivery  = "X-GitHub-Delivery"
)

type handler struct {
	secret []byte
	guard  *webhook.ReplayGuard
}

func newHandler(c *Config) *handler {
	return &handler{
		secret: []byte(c.Secret.Value()),
		guard:  webhook.NewReplayGuard(webhook.ReplayWindow, webhook.ReplayEntries),
	}
}

// Verify checks the X-Hub-Signature-256 header: "sha256=" and the hex
// HMAC-SHA256 of the raw body keyed with the secret.
func Verify(secret []byte, header string, body []byte) error {
	if header == "" {
		return fmt.Errorf("%w: the %s header is missing (set a secret on the webhook)", webhook.ErrMissing, HeaderSignature)
	}
	hexSig, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return fmt.Errorf("%w: %s must start with sha256=", webhook.ErrSignature, HeaderSignature)
	}
	return webhook.VerifyHMAC(sha256.New, secret, webhook.Hex, []string{hexSig}, body)
}

// Handle implements webhook.Handler.
func (h *handler) Handle(_ context.Context, req *webhook.Request) (*webhook.Reply, error) {
	hd := req.HTTP.Header
	if err := Verify(h.secret, hd.Get(HeaderSignature), req.Body); err != nil {
		return nil, err
	}
	payload, err := payloadOf(hd.Get("Content-Type"), req.Body)
	if err != nil {
		return nil, err
	}
	ev, err := Map(hd.Get(HeaderEvent), hd.Get(HeaderDelivery), payload, req.Now)
	if err != nil {
		return nil, err
	}
	e, err := ev.Build()
	if err != nil {
		return nil, err
	}
	// The delivery id is not signed: the same body under another id is
	// a replay.
	proof := strings.ToLower(hd.Get(HeaderSignature))
	if err := h.guard.Check(req.Now, proof, e.Source()+"\x00"+e.ID()); err != nil {
		return nil, err
	}
	return &webhook.Reply{Events: []*ce.Event{e}}, nil
}

// payloadOf returns the JSON payload: the body, or its payload= field when
// the webhook's content type is application/x-www-form-urlencoded.
func payloadOf(contentType string, body []byte) ([]byte, error) {
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt != "application/x-www-form-urlencoded" {
		return body, nil
	}
	q, err := url.ParseQuery(string(body))
	if err != nil || !q.Has("payload") {
		return nil, webhook.Invalidf("a form-encoded delivery needs a payload field")
	}
	return []byte(q.Get("payload")), nil
}

var _ webhook.Handler = (*handler)(nil)
