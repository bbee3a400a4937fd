package kafka_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
	"github.com/eventbridge-dev/eventbridge/pkg/connector/batch"
)

// With batch set, 40 events sent at once are produced together; the one
// in eight that is over max_message_bytes fails for good on its own, and
// every other is in the topic.
func TestTargetBatch(t *testing.T) {
	f := startFake(t)
	tp := topic(connectortest.Channel(t))
	tg := connectortest.StartTarget(t, "tgt", fmt.Sprintf(
		`{"type":"kafka","brokers":[%q],"topic":%q,"auto_create_topics":true,"max_message_bytes":"4KiB","batch":{"max_events":20,"linger":"50ms"}}`, f.addr(), tp))
	if n := tg.(batch.MinConcurrency).MinConcurrency(); n != 20 {
		t.Errorf("MinConcurrency %d", n)
	}
	var events []*ce.Event
	for i := range 40 {
		e := connectortest.Sample(fmt.Sprintf("k%d", i))
		if i%8 == 0 {
			_ = e.SetData("application/octet-stream", bytes.Repeat([]byte("x"), 8<<10))
		}
		events = append(events, e)
	}
	for id, err := range connectortest.SendConcurrently(tg, events) {
		var i int
		fmt.Sscanf(id, "k%d", &i)
		if i%8 == 0 {
			if !connector.IsPermanent(err) {
				t.Errorf("%s over max_message_bytes: %v, want a permanent error", id, err)
			}
		} else if err != nil {
			t.Errorf("%s: %v", id, err)
		}
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(f.addr()), kgo.ConsumeTopics(tp))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ids := map[string]bool{}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for len(ids) < 35 && ctx.Err() == nil {
		fs := cl.PollFetches(ctx)
		fs.EachRecord(func(r *kgo.Record) {
			for _, h := range r.Headers {
				if h.Key == "ce_id" {
					ids[string(h.Value)] = true
				}
			}
		})
	}
	if len(ids) != 35 {
		t.Errorf("%d events in the topic, want 35", len(ids))
	}
}
