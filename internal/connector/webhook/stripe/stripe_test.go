package stripe

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
	"github.com/eventbridge-dev/eventbridge/internal/connector/webhook"
	"github.com/eventbridge-dev/eventbridge/internal/connector/webhook/webhooktest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const secret = "whsec_test_secret"

// sign is what Stripe sends: t=<ts>,v1=hex(HMAC-SHA256(secret, "<ts>.<body>")).
func sign(secret string, ts int64, body []byte) string {
	return fmt.Sprintf("t=%d,v1=%s", ts, webhooktest.HMACHex(secret, fmt.Appendf(nil, "%d.", ts), body))
}

// The scheme of docs.stripe.com/webhooks#verify-manually, on a vector
// computed outside Go (Python's hmac module).
func TestVerifyVector(t *testing.T) {
	body := []byte("{\n  \"id\": \"evt_test_webhook\",\n  \"object\": \"event\"\n}")
	const ts = 1492774577
	header := "t=1492774577,v1=c2f890decbc5ede7c5060bb9a6d31e0626a4342bacb9aeae2adb1bcea72f9812"
	if got := sign(secret, ts, body); got != header {
		t.Fatalf("the test's signer gives %s", got)
	}
	now := time.Unix(ts, 0)
	tol := DefaultTolerance
	cases := []struct {
		name   string
		secret string
		header string
		body   []byte
		now    time.Time
		want   error
	}{
		{"valid", secret, header, body, now, nil},
		{"valid with v0 and a second v1", secret, "t=1492774577,v1=00ff,v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39," + header[len("t=1492774577,"):], body, now, nil},
		{"at the edge of the tolerance", secret, header, body, now.Add(tol), nil},
		{"clock behind", secret, header, body, now.Add(-tol), nil},
		{"stale", secret, header, body, now.Add(tol + time.Second), webhook.ErrStale},
		{"from the future", secret, header, body, now.Add(-tol - time.Second), webhook.ErrStale},
		{"tampered body", secret, header, []byte(string(body) + " "), now, webhook.ErrSignature},
		{"wrong secret", "whsec_other", header, body, now, webhook.ErrSignature},
		{"timestamp changed", secret, "t=1492774578," + header[len("t=1492774577,"):], body, now, webhook.ErrSignature},
		{"missing header", secret, "", body, now, webhook.ErrMissing},
		{"no v1", secret, "t=1492774577,v0=abc", body, now, webhook.ErrSignature},
		{"no t", secret, header[len("t=1492774577,"):], body, now, webhook.ErrSignature},
		{"bad t", secret, "t=soon," + header[len("t=1492774577,"):], body, now, webhook.ErrSignature},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := Verify([]byte(c.secret), c.header, c.body, c.now, tol)
			if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

func newFixture() *webhooktest.Fixture {
	c := &Config{Secret: secret}
	c.Defaults()
	f := webhooktest.NewFixture()
	f.Src = newSource("st", c, f.Deps, f.Options())
	return f
}

func TestMapping(t *testing.T) {
	f := newFixture()
	body := []byte(`{"id":"evt_1NG8Du2eZvKYlo2CUI79vXWy","object":"event","api_version":"2019-02-19","created":1686089970,
	"data":{"object":{"id":"pi_3MtwBwLkdIwHu7ix28a3tqPa","object":"payment_intent"}},"livemode":false,
	"type":"payment_intent.succeeded","account":"acct_1032D82eZvKYlo2C"}`)
	now := f.Clock.Now().Unix()
	w := f.Post(body, HeaderSignature, sign(secret, now, body))
	webhooktest.WantStatus(t, w, http.StatusAccepted)
	webhooktest.WantAttrs(t, webhooktest.One(t, f.Col), map[string]string{
		"id": "evt_1NG8Du2eZvKYlo2CUI79vXWy", "type": "com.stripe.payment_intent.succeeded",
		"source": "https://api.stripe.com/accounts/acct_1032D82eZvKYlo2C", "subject": "pi_3MtwBwLkdIwHu7ix28a3tqPa",
		"time": "2023-06-06T22:19:30Z", "datacontenttype": "application/json",
	})
}

func TestThinEvent(t *testing.T) {
	f := newFixture()
	body := []byte(`{"id":"evt_test_65R","object":"v2.core.event","type":"v1.billing.meter.error_report_triggered",
	"created":"2024-09-17T06:20:52.246Z","related_object":{"id":"mtr_test_61R","type":"billing.meter"}}`)
	w := f.Post(body, HeaderSignature, sign(secret, f.Clock.Now().Unix(), body))
	webhooktest.WantStatus(t, w, http.StatusAccepted)
	webhooktest.WantAttrs(t, webhooktest.One(t, f.Col), map[string]string{
		"type": "com.stripe.v1.billing.meter.error_report_triggered", "subject": "mtr_test_61R",
		"source": "https://api.stripe.com", "time": "2024-09-17T06:20:52.246Z",
	})
}

func TestRefusals(t *testing.T) {
	body := []byte(`{"id":"evt_1","type":"charge.succeeded","created":1}`)
	f := newFixture()
	now := f.Clock.Now().Unix()
	for _, c := range []struct {
		header string
		reason string
	}{
		{sign(secret, now-301, body), webhook.ReasonStale},
		{sign("whsec_other", now, body), webhook.ReasonSignature},
		{"", webhook.ReasonMissing},
	} {
		webhooktest.WantProblem(t, f.Post(body, HeaderSignature, c.header), 401, "unauthorized")
		if got := f.Rejected("st", c.reason); got != 1 {
			t.Fatalf("rejected{reason=%s} = %v", c.reason, got)
		}
	}
	if f.Col.Count() != 0 {
		t.Fatal("refused events stored")
	}
	// Signed, but not a Stripe event.
	bad := []byte(`{"object":"event"}`)
	webhooktest.WantProblem(t, f.Post(bad, HeaderSignature, sign(secret, now, bad)), 400, "invalid-request")
}

// A retry (new timestamp, same event id) is stored once by the bus: the
// CloudEvent id is the Stripe event id.
func TestRetryKeepsID(t *testing.T) {
	f := newFixture()
	body := []byte(`{"id":"evt_same","type":"charge.succeeded","created":1714564800}`)
	for range 3 {
		f.Clock.Advance(time.Hour)
		w := f.Post(body, HeaderSignature, sign(secret, f.Clock.Now().Unix(), body))
		webhooktest.WantStatus(t, w, http.StatusAccepted)
	}
	if f.Col.Distinct() != 1 {
		t.Fatalf("%d distinct", f.Col.Distinct())
	}
}

func TestEndToEnd(t *testing.T) {
	col := connectortest.NewCollector()
	url := webhooktest.Listen(t, "st", `{"type":"stripe","secret":"`+secret+`","tolerance":"10m"}`, col)
	body := []byte(`{"id":"evt_e2e","type":"invoice.paid","created":1714564800}`)
	if code, b := webhooktest.Send(t, url, body, HeaderSignature, sign(secret, time.Now().Unix(), body)); code != 202 {
		t.Fatalf("%d %s", code, b)
	}
	if code, _ := webhooktest.Send(t, url, body, HeaderSignature, sign(secret, time.Now().Add(-11*time.Minute).Unix(), body)); code != 401 {
		t.Fatalf("stale: %d", code)
	}
	webhooktest.WantAttrs(t, webhooktest.One(t, col), map[string]string{"id": "evt_e2e", "type": "com.stripe.invoice.paid"})
}

func FuzzEvent(f *testing.F) {
	f.Add([]byte(`{"id":"evt_1","type":"charge.succeeded","created":1714564800,"data":{"object":{"id":"ch_1"}}}`))
	f.Add([]byte(`{"id":"evt_1","type":"a b","created":"x","account":"a/../b"}`))
	f.Add([]byte(`{"id":" ","type":"t","created":99999999999999}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		fx := newFixture()
		fx.WantFuzzOutcome(t, fx.Post(body, HeaderSignature, sign(secret, fx.Clock.Now().Unix(), body)))
	})
}
