package github

import (
	"net/http"
	"testing"

	"github.com/eventbridge-dev/eventbridge/internal/connector/webhook/webhooktest"
	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
)

// FuzzDelivery sends signed deliveries with arbitrary event names, ids and
// bodies: no panic, 202 or 400 only, and what is stored is a valid event
// whose id is the delivery id.
func FuzzDelivery(f *testing.F) {
	f.Add("push", "d1", []byte(`{"ref":"refs/heads/main","repository":{"html_url":"https://github.com/o/r"}}`), "application/json")
	f.Add("pull_request", "d2", []byte(`{"action":"opened","number":1e400}`), "application/json")
	f.Add("issues", "d3", []byte(`payload=%7B%7D`), "application/x-www-form-urlencoded")
	f.Add("ping", " ", []byte(`null`), "")
	f.Add("star", "x", []byte(`{"starred_at":"10000-01-01T00:00:00Z","organization":{"login":"a b"}}`), "application/json")
	f.Fuzz(func(t *testing.T, event, delivery string, body []byte, ct string) {
		fx := newFixture(t)
		w := fx.Post(body, "Content-Type", ct, HeaderEvent, event, HeaderDelivery, delivery, HeaderSignature, sign(testSecret, body))
		switch w.Code {
		case http.StatusAccepted:
			e := webhooktest.One(t, fx.Col)
			if err := ebevent.Validate(e); err != nil {
				t.Fatalf("stored an invalid event: %v", err)
			}
			if e.ID() != delivery {
				t.Fatalf("id %q, want the delivery id %q", e.ID(), delivery)
			}
		case http.StatusBadRequest:
			if fx.Col.Count() != 0 {
				t.Fatal("refused but stored")
			}
		default:
			t.Fatalf("status %d: %s", w.Code, w.Body.String())
		}
	})
}
