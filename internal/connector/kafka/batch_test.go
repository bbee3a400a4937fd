package kafka_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/brokertest"
	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
	"github.com/eventbridge-dev/eventbridge/internal/resource"
	"github.com/eventbridge-dev/eventbridge/pkg/connector/batch"
)

// With batch set, 40 events sent at once are produced together; the one
// in eight that is over max_message_bytes fails for good on its own, and
// every other is in the topic.
func TestTargetBatch(t *testing.T) {
	f := startFake(t)
	tp := topic(connectortest.Channel(t))
	tg := connectortest.StartTarget(t, "tgt", fmt.Sprintf(
		`{"type":"kafka","brokers":[%q],"topic":%q,"auto_create_topics":true,"max_message_bytes":"4KiB","max_in_flight":1,"batch":{"max_events":20,"linger":"50ms"}}`, f.addr(), tp))
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

// A kafka target asks for max_in_flight workers per route (default 256),
// or a batch's worth when that is more; the window is bounded.
func TestTargetWindow(t *testing.T) {
	for _, c := range []struct {
		cfg  string
		want int
	}{
		{`{"type":"kafka","brokers":["k:9092"],"topic":"t"}`, 256},
		{`{"type":"kafka","brokers":["k:9092"],"topic":"t","max_in_flight":8}`, 8},
		{`{"type":"kafka","brokers":["k:9092"],"topic":"t","max_in_flight":8,"batch":{"max_events":50}}`, 50},
	} {
		cfg, err := resource.DecodeConnector(resource.KindTarget, json.RawMessage(c.cfg), "target")
		if err != nil {
			t.Fatal(err)
		}
		typ, _ := connector.LookupTarget("kafka")
		tg, err := typ.New("t", cfg, connectortest.Deps(nil))
		if err != nil {
			t.Fatal(err)
		}
		if got := tg.(batch.MinConcurrency).MinConcurrency(); got != c.want {
			t.Errorf("%s: MinConcurrency %d, want %d", c.cfg, got, c.want)
		}
	}
	brokertest.WantProblems(t, resource.KindTarget, `{"type":"kafka","brokers":["k:9092"],"topic":"t","max_in_flight":5000}`, "target.max_in_flight:")
	brokertest.WantProblems(t, resource.KindSource, `{"type":"kafka","brokers":["k:9092"],"topics":["t"],"commit_interval":"2m"}`, "source.commit_interval:")
}
