package nats

import (
	"encoding/json"
	"testing"

	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/brokertest"
	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
	"github.com/eventbridge-dev/eventbridge/internal/resource"
	"github.com/eventbridge-dev/eventbridge/pkg/connector/batch"
)

// A nats or jetstream target asks for max_in_flight workers per route
// (default 256), or a batch's worth when that is more; the window is
// bounded.
func TestTargetWindow(t *testing.T) {
	for _, c := range []struct {
		cfg  string
		want int
	}{
		{`{"type":"nats","url":"nats://x:4222","subject":"a"}`, DefaultMaxInFlight},
		{`{"type":"jetstream","url":"nats://x:4222","subject":"a"}`, DefaultMaxInFlight},
		{`{"type":"nats","url":"nats://x:4222","subject":"a","max_in_flight":8}`, 8},
		{`{"type":"nats","url":"nats://x:4222","subject":"a","max_in_flight":8,"batch":{"max_events":50}}`, 50},
		{`{"type":"jetstream","url":"nats://x:4222","subject":"a","max_in_flight":300,"batch":{"max_events":50}}`, 300},
	} {
		cfg, err := resource.DecodeConnector(resource.KindTarget, json.RawMessage(c.cfg), "target")
		if err != nil {
			t.Fatal(err)
		}
		var tg connector.Target
		if _, js := cfg.(*JetStreamTargetConfig); js {
			tg, err = newJetStreamTarget("t", cfg, connectortest.Deps(nil))
		} else {
			tg, err = newTarget("t", cfg, connectortest.Deps(nil))
		}
		if err != nil {
			t.Fatal(err)
		}
		if got := tg.(batch.MinConcurrency).MinConcurrency(); got != c.want {
			t.Errorf("%s: MinConcurrency %d, want %d", c.cfg, got, c.want)
		}
	}
	brokertest.WantProblems(t, resource.KindTarget, `{"type":"nats","url":"nats://x:4222","subject":"a","max_in_flight":5000}`, "target.max_in_flight:")
	brokertest.WantProblems(t, resource.KindTarget, `{"type":"jetstream","url":"nats://x:4222","subject":"a","max_in_flight":-1}`, "target.max_in_flight:")
}
