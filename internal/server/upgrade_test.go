package server_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
	"github.com/eventbridge-dev/eventbridge/internal/config"
	"github.com/eventbridge-dev/eventbridge/internal/router"
	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

// A data directory written by a version whose router consumed EVENTS: the
// events that consumer had not acknowledged are routed after the upgrade,
// those it had are not routed again, and the old consumer is gone.
func TestUpgradeMovesUnroutedEventsToWork(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// The old layout: events written to EVENTS only, and the router's
	// durable consumer on EVENTS, which settled the first two.
	cfg := bus.Config{DataDir: dir}
	cfg.Defaults()
	old, err := bus.Open(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	js := old.JetStream()
	cons, err := js.CreateOrUpdateConsumer(ctx, bus.StreamEvents, jetstream.ConsumerConfig{
		Durable: router.ConsumerName, DeliverPolicy: jetstream.DeliverNewPolicy, AckPolicy: jetstream.AckExplicitPolicy,
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		e := ce.New()
		e.SetID(fmt.Sprintf("old-%d", i))
		e.SetSource("/test")
		e.SetType("com.example.test")
		m, err := bus.EncodeEvent("in", &e, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		// The old layout's archive copy had its key as Nats-Msg-Id.
		m.Header.Set(jetstream.MsgIDHeader, m.Header.Get(bus.HdrKey))
		m.Header.Del(bus.HdrKey)
		if _, err := js.PublishMsg(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	batch, err := cons.Fetch(2)
	if err != nil {
		t.Fatal(err)
	}
	for msg := range batch.Messages() {
		if err := msg.DoubleAck(ctx); err != nil {
			t.Fatal(err)
		}
	}
	old.Close()

	sink := testkit.NewSink(t)
	c, err := config.Parse([]byte(yamlf(`
sources: {in: {type: http, path: /events}}
targets: {out: {type: http, url: %q}}
rules: {all: {targets: [out]}}
`, sink.URL)))
	if err != nil {
		t.Fatalf("config: %s", config.String(err))
	}
	c.Bus.DataDir, c.API.Listen, c.Lifecycle.Disabled = dir, "127.0.0.1:0", true
	b := startBridgeConfig(t, c)

	testkit.Eventually(t, 10*time.Second, func() bool { return sink.Distinct() == 3 }, "sink got %d of the 3 unrouted events", sink.Distinct())
	mustSend(t, b, "new")
	testkit.Eventually(t, 10*time.Second, func() bool { return sink.Distinct() == 4 }, "the new event did not arrive")
	for _, id := range []string{"old-0", "old-1"} {
		if sink.Has("/test", id) {
			t.Errorf("%s was routed before the upgrade and again after it", id)
		}
	}
	for _, id := range []string{"old-2", "old-3", "old-4", "new"} {
		if !sink.Has("/test", id) {
			t.Errorf("%s was not delivered", id)
		}
	}
	if _, err := b.Bus().JetStream().Consumer(ctx, bus.StreamEvents, router.ConsumerName); !errors.Is(err, jetstream.ErrConsumerNotFound) {
		t.Errorf("the old consumer of EVENTS is still there (err %v)", err)
	}
	if got := streamMsgs(t, b, bus.StreamEvents); got != 6 {
		t.Errorf("the archive holds %d events, want 6", got)
	}
}
