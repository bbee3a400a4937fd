package nats

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
	"github.com/eventbridge-dev/eventbridge/pkg/connector/batch"
)

// A jetstream target with batch: 40 events sent at once are published
// asynchronously and acknowledged together; the one in eight over the
// stream's max_msg_size fails on its own, for good; an event sent twice
// in a batch is stored once (Nats-Msg-Id).
func TestJetStreamTargetBatch(t *testing.T) {
	s := startServer(t)
	nc, err := nats.Connect(s.url())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "BT", Subjects: []string{"bt.>"}, MaxMsgSize: 4096})
	if err != nil {
		t.Fatal(err)
	}
	tg := connectortest.StartTarget(t, "out", fmt.Sprintf(
		`{"type":"jetstream","url":%q,"subject":"bt.{type}","max_in_flight":1,"batch":{"max_events":20,"linger":"50ms"}}`, s.url()))
	if n := tg.(batch.MinConcurrency).MinConcurrency(); n != 20 {
		t.Errorf("MinConcurrency %d", n)
	}
	connectortest.Eventually(t, 10*time.Second, func() bool { return tg.Health().Detail["connected"] == true }, "not connected")
	var events []*ce.Event
	for i := range 40 {
		e := connectortest.Sample(fmt.Sprintf("j%d", i))
		if i%8 == 0 {
			_ = e.SetData("application/octet-stream", bytes.Repeat([]byte("x"), 8<<10))
		}
		events = append(events, e)
	}
	events = append(events, connectortest.Sample("j1")) // again
	errs := connectortest.SendConcurrently(tg, events)
	for id, err := range errs {
		var i int
		fmt.Sscanf(id, "j%d", &i)
		if i%8 == 0 {
			if !connector.IsPermanent(err) {
				t.Errorf("%s over max_msg_size: %v, want a permanent error", id, err)
			}
		} else if err != nil {
			t.Errorf("%s: %v", id, err)
		}
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 35 {
		t.Errorf("%d messages in the stream, want 35", info.State.Msgs)
	}
}

// A nats target with batch publishes the messages of concurrent Sends and
// flushes once; every subscriber message arrives.
func TestCoreTargetBatch(t *testing.T) {
	s := startServer(t)
	nc, err := nats.Connect(s.url())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	ch := make(chan *nats.Msg, 100)
	sub, err := nc.ChanSubscribe("cb.>", ch)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	tg := connectortest.StartTarget(t, "out", fmt.Sprintf(
		`{"type":"nats","url":%q,"subject":"cb.{type}","batch":{"max_events":10,"linger":"50ms"}}`, s.url()))
	connectortest.Eventually(t, 10*time.Second, func() bool { return tg.Health().Detail["connected"] == true }, "not connected")
	var events []*ce.Event
	for i := range 30 {
		events = append(events, connectortest.Sample(fmt.Sprintf("c%d", i)))
	}
	for id, err := range connectortest.SendConcurrently(tg, events) {
		if err != nil {
			t.Errorf("%s: %v", id, err)
		}
	}
	seen := map[string]bool{}
	deadline := time.After(10 * time.Second)
	for len(seen) < 30 {
		select {
		case m := <-ch:
			seen[m.Header.Get("ce-id")] = true
		case <-deadline:
			t.Fatalf("%d of 30 messages arrived", len(seen))
		}
	}
}
