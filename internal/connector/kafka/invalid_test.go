package kafka_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
	"github.com/eventbridge-dev/eventbridge/internal/connector/kafka"
)

func h(kv ...string) []kgo.RecordHeader {
	var out []kgo.RecordHeader
	for i := 0; i < len(kv); i += 2 {
		out = append(out, kgo.RecordHeader{Key: kv[i], Value: []byte(kv[i+1])})
	}
	return out
}

// A record without CloudEvents headers is wrapped; an invalid CloudEvent
// goes to the dead-letter topic with the reason; both are counted, and the
// valid events around them are stored in order.
func TestInvalidRecordsWrappedAndDeadLettered(t *testing.T) {
	f := startFake(t)
	in, dlq := topic(connectortest.Channel(t)), topic(connectortest.Channel(t))+"-dlq"
	cl, err := kgo.NewClient(kgo.SeedBrokers(f.addr()), kgo.AllowAutoTopicCreation(), kgo.DefaultProduceTopic(in))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	recs := []*kgo.Record{
		{Headers: h("ce_specversion", "1.0", "ce_id", "ok-1", "ce_source", "/s", "ce_type", "t")},
		{Headers: h("content-type", "text/plain"), Value: []byte("plain text")},
		{Headers: h("ce_specversion", "1.0", "ce_source", "/s", "ce_type", "t")}, // no id
		{Headers: h("ce_specversion", "1.0", "ce_id", "ok-2", "ce_source", "/s", "ce_type", "t")},
	}
	for _, r := range recs {
		r.Key = []byte("same-partition")
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	col := connectortest.NewCollector()
	deps := connectortest.Deps(col)
	connectortest.StartSourceWith(t, "src", fmt.Sprintf(`{"type":"kafka","brokers":[%q],"topics":[%q],"dead_letter":%q,"auto_create_topics":true,"wrap":{"type":"com.example.raw","source":"/kafka"}}`, f.addr(), in, dlq), deps)
	connectortest.Eventually(t, 20*time.Second, func() bool { return col.Count() == 3 }, "stored %d of 3", col.Count())
	got := col.Events()
	if got[0].ID() != "ok-1" || got[1].Type() != "com.example.raw" || string(got[1].Data()) != "plain text" || got[1].Subject() != in || got[2].ID() != "ok-2" {
		t.Fatalf("stored %v", got)
	}
	if n := testutil.ToFloat64(deps.Metrics.Rejected.WithLabelValues("src", "invalid")); n != 1 {
		t.Errorf("rejected{invalid} = %v", n)
	}
	if n := testutil.ToFloat64(deps.Metrics.ConnMessages.WithLabelValues("src", "kafka", "in", "invalid")); n != 1 {
		t.Errorf("messages{in,invalid} = %v", n)
	}
	// The dead-letter topic holds the record as it was, with the reason.
	rd, err := kgo.NewClient(kgo.SeedBrokers(f.addr()), kgo.ConsumeTopics(dlq))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	fs := rd.PollRecords(ctx, 1)
	if errs := fs.Errors(); len(errs) > 0 {
		t.Fatal(errs)
	}
	r := fs.Records()[0]
	var reason string
	for _, x := range r.Headers {
		if x.Key == "eventbridge_error" {
			reason = string(x.Value)
		}
	}
	if reason == "" || string(r.Key) != "same-partition" {
		t.Fatalf("dead letter %+v", r)
	}
	t.Logf("dead letter reason: %s", reason)
}

var _ = kafka.ModeBinary
