package mqtt

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
)

// At QoS 1 a message is acknowledged only once stored: a source that
// stops before the bus took its messages leaves them with the broker,
// which hands them to the next connection of the same session.
//
// The messages are published while the source is away (its persistent
// session queues them), so that nothing is published while the source has
// messages in flight, which deadlocks mochi v2.7.9 (see TestConformance).
func TestAtLeastOnceAcrossRestart(t *testing.T) {
	for _, v := range []Version{V5, V311} {
		t.Run("v"+string(v), func(t *testing.T) {
			b := startBroker(t)
			cfg := fmt.Sprintf(`{"type":"mqtt","url":%q,"version":%q,"client_id":"alo-%s","topics":["alo/#"],"qos":1}`, b.url(), v, v)
			// Subscribe once, so that the session exists, then go away.
			first := startSource(t, cfg, connectortest.Deps(connectortest.NewCollector()))
			stopNow(t, first)

			pub := newRawClient(t, b.url(), v, "")
			for i := 0; i < 5; i++ {
				payload, _ := ebevent.EncodeJSON(connectortest.Sample(fmt.Sprintf("alo-%d", i)))
				pub.publish(t, Message{Topic: "alo/x", QoS: 1, Payload: payload})
			}

			// The bus is down: nothing is stored, nothing acknowledged.
			down := connectortest.NewCollector()
			down.Fail(1 << 30)
			second := startSource(t, cfg, connectortest.Deps(down))
			time.Sleep(300 * time.Millisecond) // let it try (and fail) a few times
			stopNow(t, second)
			if down.Count() != 0 {
				t.Fatalf("stored %d with the bus down", down.Count())
			}

			// The bus fails twice more, then stores: every message arrives.
			col := connectortest.NewCollector()
			col.Fail(2)
			startSource(t, cfg, connectortest.Deps(col))
			connectortest.Eventually(t, 20*time.Second, func() bool { return col.Distinct() == 5 }, "got %d of 5 after the restart", col.Distinct)
		})
	}
}

func stopNow(t *testing.T, s interface {
	Stop(ctxT) error
}) {
	t.Helper()
	ctx, cancel := ctxWithTimeout(10 * time.Second)
	defer cancel()
	if err := s.Stop(ctx); err != nil {
		t.Fatal(err)
	}
}

type ctxT = context.Context

func ctxWithTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}
