package http

import (
	"crypto/sha256"
	"encoding/base64"
	nethttp "net/http"
	"strings"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventbridge-dev/eventbridge/internal/spec"
	"github.com/eventbridge-dev/eventbridge/pkg/stdwebhooks"
)

// Signing signs every request the Standard Webhooks way: headers
// webhook-id, webhook-timestamp and webhook-signature ("v1,<base64
// HMAC-SHA256 of id.timestamp.body>", one per secret, space-separated).
type Signing struct {
	// Secret is the signing secret: "whsec_" and 24 to 64 random bytes in
	// base64 (openssl rand -base64 32). A secret reference
	// (${env:NAME}, ${file:PATH}, ${secret:NAME}) keeps it out of the
	// spec; the API shows it as "***".
	Secret spec.Secret `json:"secret"`
	// PreviousSecret, while a secret is being rotated, is the one the
	// receivers knew until now: each request is signed with both, so
	// receivers verify it whichever secret they have.
	PreviousSecret spec.Secret `json:"previous_secret,omitempty"`
}

// validate reports problems under p (the path of signing). It never
// names a secret's value.
func (s *Signing) validate(p spec.Problems) {
	check := func(field string, v spec.Secret) {
		if strings.Contains(v.Value(), "${") {
			return // a reference kept as written (the spec is shown, not run)
		}
		if _, err := stdwebhooks.ParseSecret(v.Value()); err != nil {
			p.AddAt(field, "must be whsec_ and %d to %d bytes in base64", stdwebhooks.MinSecretBytes, stdwebhooks.MaxSecretBytes)
		}
	}
	if s.Secret == "" {
		p.AddAt("secret", "required")
	} else {
		check("secret", s.Secret)
	}
	if s.PreviousSecret != "" {
		check("previous_secret", s.PreviousSecret)
	}
}

// signer returns the stdwebhooks signer of s, nil when s is nil.
func (s *Signing) signer() (*stdwebhooks.Signer, error) {
	if s == nil {
		return nil, nil
	}
	secrets := []string{s.Secret.Value()}
	if s.PreviousSecret != "" {
		secrets = append(secrets, s.PreviousSecret.Value())
	}
	return stdwebhooks.NewSigner(secrets...)
}

// webhookHeaders are the headers signing sets; headers: may not set them.
var webhookHeaders = []string{stdwebhooks.HeaderID, stdwebhooks.HeaderTimestamp, stdwebhooks.HeaderSignature}

func isWebhookHeader(name string) bool {
	for _, h := range webhookHeaders {
		if nethttp.CanonicalHeaderKey(name) == nethttp.CanonicalHeaderKey(h) {
			return true
		}
	}
	return false
}

// WebhookID is the webhook-id of a request that carries e: "evt_" and a
// hash of its source and id, so it is the same on every attempt (the
// receiver's idempotency key) and holds no '.' whatever the id holds.
func WebhookID(e *ce.Event) string {
	h := sha256.New()
	h.Write([]byte(e.Source()))
	h.Write([]byte{0})
	h.Write([]byte(e.ID()))
	return "evt_" + base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:18])
}

// batchWebhookID is the webhook-id of a batch: "batch_" and a hash of
// its events' (source, id) pairs. The same events in the same order give
// the same id; a retried event usually travels in another batch, so
// receivers deduplicate batched events on their own (source, id).
func batchWebhookID(items []batchItem) string {
	h := sha256.New()
	for _, it := range items {
		h.Write([]byte(it.id))
		h.Write([]byte{0})
	}
	return "batch_" + base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:18])
}

// sign sets the webhook headers on h when the target signs.
func (t *Target) sign(h nethttp.Header, id string, body []byte) {
	if t.signer != nil {
		t.signer.SetHeaders(h, id, time.Now(), body)
	}
}
