package natsjs

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

// TestIntegrationJetStream runs a source and a durable agent through an
// external NATS server with JetStream (NATS_URL, default
// nats://127.0.0.1:4222), on a stream and prefix of its own that it
// deletes afterwards.
func TestIntegrationJetStream(t *testing.T) {
	addr := os.Getenv("NATS_URL")
	if addr == "" {
		addr = "nats://127.0.0.1:4222"
	}
	nc, err := nats.Connect(addr, nats.Timeout(5*time.Second))
	if err != nil {
		testkit.Missing(t, "no NATS at %s: %v", addr, err)
		return
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err = js.AccountInfo(ctx)
		cancel()
	}
	if err != nil {
		testkit.Missing(t, "NATS at %s has no JetStream: %v", addr, err)
		return
	}
	prefix := uniquePrefix(t)
	stream := "CLOUDSYNC_TEST_" + EscapeToken(prefix[len("cstest."):])
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = js.DeleteStream(ctx, stream)
	})
	o := Options{URL: addr, Prefix: prefix, JetStream: &JetStreamOptions{Stream: stream, MaxAge: time.Hour}}
	src, _ := NewSource("hub1", o)
	durable := o
	durable.JetStream = &JetStreamOptions{Stream: stream, Durable: "agent1"}
	agent, _ := NewAgent("agent1", "cluster1", durable)
	srcIn, _ := start(t, src)
	in, _ := start(t, agent)

	spec := newEvent(specCreate, "hub1", "cluster1", "")
	send(t, src, spec)
	status := newEvent(statusUpdate, "agent1", "cluster1", "hub1")
	send(t, agent, status)
	testkit.Eventually(t, testTimeout, func() bool { return in.ids()[spec.ID()] == 1 && srcIn.ids()[status.ID()] == 1 },
		"no round trip through %s: agent %v source %v", addr, in.ids(), srcIn.ids())
}
