package github

import (
	"errors"
	"net/http"
	"net/url"
	"testing"

	"github.com/eventbridge-dev/eventbridge/internal/connector/webhook"
	"github.com/eventbridge-dev/eventbridge/internal/connector/webhook/webhooktest"
)

// GitHub's published vector (docs "Validating webhook deliveries").
func TestVerifyPublishedVector(t *testing.T) {
	secret := []byte("It's a Secret to Everybody")
	body := []byte("Hello, World!")
	const header = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
	if got := sign(string(secret), body); got != header {
		t.Fatalf("the test's signer gives %s", got)
	}
	if err := Verify(secret, header, body); err != nil {
		t.Fatalf("published vector refused: %v", err)
	}
	cases := []struct {
		name   string
		secret string
		header string
		body   string
		want   error
	}{
		{"tampered body", string(secret), header, "Hello, World?", webhook.ErrSignature},
		{"wrong secret", "It's a secret to everybody", header, string(body), webhook.ErrSignature},
		{"missing header", string(secret), "", string(body), webhook.ErrMissing},
		{"legacy sha1 prefix", string(secret), "sha1=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17", string(body), webhook.ErrSignature},
		{"no prefix", string(secret), header[len("sha256="):], string(body), webhook.ErrSignature},
		{"not hex", string(secret), "sha256=zz", string(body), webhook.ErrSignature},
		{"truncated", string(secret), header[:len(header)-2], string(body), webhook.ErrSignature},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := Verify([]byte(c.secret), c.header, []byte(c.body)); !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

func TestRefusals(t *testing.T) {
	body := []byte(`{"zen":"Keep it logically awesome.","hook_id":1,"repository":{"html_url":"https://github.com/o/r"}}`)
	cases := []struct {
		name    string
		headers []string
		status  int
		code    string
		reason  string
	}{
		{"no signature", []string{HeaderEvent, "ping", HeaderDelivery, "d1"}, 401, "unauthorized", webhook.ReasonMissing},
		{"wrong secret", []string{HeaderEvent, "ping", HeaderDelivery, "d1", HeaderSignature, sign("other", body)}, 401, "unauthorized", webhook.ReasonSignature},
		{"no event", []string{HeaderDelivery, "d1", HeaderSignature, sign(testSecret, body)}, 400, "invalid-request", webhook.ReasonInvalid},
		{"no delivery id", []string{HeaderEvent, "ping", HeaderSignature, sign(testSecret, body)}, 400, "invalid-request", webhook.ReasonInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			w := f.Post(body, c.headers...)
			webhooktest.WantProblem(t, w, c.status, c.code)
			if n := f.Col.Count(); n != 0 {
				t.Fatalf("%d events stored", n)
			}
			if got := f.Rejected("gh", c.reason); got != 1 {
				t.Fatalf("rejected{reason=%s} = %v, want 1", c.reason, got)
			}
		})
	}
}

func TestTamperedBodyIsNotStored(t *testing.T) {
	f := newFixture(t)
	body := []byte(`{"ref":"refs/heads/main","repository":{"html_url":"https://github.com/o/r"}}`)
	sig := sign(testSecret, body)
	tampered := []byte(`{"ref":"refs/heads/evil","repository":{"html_url":"https://github.com/o/r"}}`)
	w := f.Post(tampered, HeaderEvent, "push", HeaderDelivery, "d1", HeaderSignature, sig)
	webhooktest.WantProblem(t, w, 401, "unauthorized")
	if f.Col.Count() != 0 {
		t.Fatal("a tampered delivery was stored")
	}
}

// A repeated delivery (same id) is accepted each time and the bus keeps
// one; the same signed body under another id is a replay.
func TestRedeliveryAndReplay(t *testing.T) {
	f := newFixture(t)
	body := []byte(`{"ref":"refs/heads/main","repository":{"html_url":"https://github.com/o/r"}}`)
	for range 2 {
		if code := f.deliver("push", "72d3162e-cc78-11e3-81ab-4c9367dc0958", body); code != http.StatusAccepted {
			t.Fatalf("status %d", code)
		}
	}
	if f.Col.Distinct() != 1 {
		t.Fatalf("%d distinct events, want 1", f.Col.Distinct())
	}
	w := f.Post(body, HeaderEvent, "push", HeaderDelivery, "another-id", HeaderSignature, sign(testSecret, body))
	webhooktest.WantProblem(t, w, 401, "unauthorized")
	if got := f.Rejected("gh", webhook.ReasonReplay); got != 1 {
		t.Fatalf("rejected{reason=replay} = %v", got)
	}
	if f.Col.Count() != 2 {
		t.Fatalf("the replay was stored")
	}
}

func TestAnswersOnlyOnceStored(t *testing.T) {
	f := newFixture(t)
	f.Col.Fail(1)
	body := []byte(`{"zen":"z","hook_id":1,"repository":{"html_url":"https://github.com/o/r"}}`)
	w := f.Post(body, HeaderEvent, "ping", HeaderDelivery, "d1", HeaderSignature, sign(testSecret, body))
	webhooktest.WantProblem(t, w, http.StatusServiceUnavailable, "unavailable")
	if w.Header().Get("Retry-After") == "" {
		t.Fatal("503 without Retry-After")
	}
	if code := f.deliver("ping", "d1", body); code != http.StatusAccepted {
		t.Fatalf("retry: status %d", code)
	}
	if f.Col.Count() != 1 {
		t.Fatalf("%d stored", f.Col.Count())
	}
}

func TestLimitsAndMethods(t *testing.T) {
	f := newFixture(t)
	big := make([]byte, webhook.DefaultMaxBodySize+1)
	w := f.Post(big, HeaderEvent, "push", HeaderDelivery, "d", HeaderSignature, sign(testSecret, big))
	webhooktest.WantProblem(t, w, http.StatusRequestEntityTooLarge, "too-large")
	w = webhooktest.Do(f.Src, http.MethodGet, nil)
	webhooktest.WantProblem(t, w, http.StatusMethodNotAllowed, "method-not-allowed")
	if w.Header().Get("Allow") != "POST" {
		t.Fatalf("Allow: %q", w.Header().Get("Allow"))
	}
}

// GitHub can send the payload form-encoded; the signature covers the raw
// form body, the event's data is the payload field.
func TestFormEncoded(t *testing.T) {
	f := newFixture(t)
	payload := `{"ref":"refs/heads/main","repository":{"html_url":"https://github.com/o/r"}}`
	body := []byte(url.Values{"payload": {payload}}.Encode())
	w := f.Post(body, "Content-Type", "application/x-www-form-urlencoded",
		HeaderEvent, "push", HeaderDelivery, "d1", HeaderSignature, sign(testSecret, body))
	webhooktest.WantStatus(t, w, http.StatusAccepted)
	e := webhooktest.One(t, f.Col)
	if string(e.Data()) != payload {
		t.Fatalf("data %s", e.Data())
	}
}
