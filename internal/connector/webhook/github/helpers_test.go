package github

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
	"github.com/eventbridge-dev/eventbridge/internal/connector/webhook"
	"github.com/eventbridge-dev/eventbridge/internal/connector/webhook/webhooktest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const testSecret = "s3cret"

var t0 = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// sign is what GitHub sends in X-Hub-Signature-256 for body.
func sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

type fixture struct {
	src  *webhook.Source
	col  *connectortest.Collector
	deps connector.Deps
	clk  *webhooktest.Clock
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	c := &Config{Secret: testSecret}
	c.Defaults()
	f := &fixture{col: connectortest.NewCollector(), clk: webhooktest.NewClock(t0)}
	f.deps = webhooktest.Deps(f.col)
	f.src = newSource("gh", c, f.deps, webhook.Options{Clock: f.clk.Now})
	return f
}

// deliver posts body as GitHub would: signed, with event and delivery id.
func (f *fixture) deliver(event, delivery string, body []byte) int {
	return webhooktest.Post(f.src, body,
		"Content-Type", "application/json",
		HeaderEvent, event, HeaderDelivery, delivery,
		HeaderSignature, sign(testSecret, body)).Code
}
