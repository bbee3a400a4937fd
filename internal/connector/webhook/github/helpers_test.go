package github

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/eventbridge-dev/eventbridge/internal/connector/webhook/webhooktest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const testSecret = "s3cret"

// sign is what GitHub sends in X-Hub-Signature-256 for body.
func sign(secret string, body []byte) string { return "sha256=" + webhooktest.HMACHex(secret, body) }

type fixture struct{ *webhooktest.Fixture }

func newFixture(t *testing.T) *fixture {
	t.Helper()
	c := &Config{Secret: testSecret}
	c.Defaults()
	f := fixture{webhooktest.NewFixture()}
	f.Src = newSource("gh", c, f.Deps, f.Options())
	return &f
}

// deliver posts body as GitHub would: signed, with event and delivery id.
func (f *fixture) deliver(event, delivery string, body []byte) int {
	return f.Post(body,
		"Content-Type", "application/json",
		HeaderEvent, event, HeaderDelivery, delivery,
		HeaderSignature, sign(testSecret, body)).Code
}
