//go:build unix

package kafka_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
)

// slowIngester stands for the bus: each Ingest takes delay (the bus's
// write round trips), whatever its size.
type slowIngester struct {
	delay         time.Duration
	events, calls atomic.Int64
}

func (s *slowIngester) Ingest(ctx context.Context, _ string, events []*ce.Event) error {
	t := time.NewTimer(s.delay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		return ctx.Err()
	}
	s.calls.Add(1)
	s.events.Add(int64(len(events)))
	return nil
}

// BenchmarkSourceIntake is a kafka source (kfake, one partition) reading
// what a producer sends, in batches of 1,000 records, into an ingester
// whose every call takes 1 ms; an op is one event stored. The
// sub-benchmarks set max_poll_records: with 10, the time is mostly the
// loop's turns (poll, store, commit).
//
// commit_delay=10ms holds every offset commit 10 ms in the cluster (kfake
// SleepControl; other requests go on), as a busy cluster or coordinator
// does.
func BenchmarkSourceIntake(b *testing.B) {
	for _, maxPoll := range []int{10, 500} {
		b.Run(fmt.Sprintf("max_poll_records=%d", maxPoll), func(b *testing.B) { benchSourceIntake(b, maxPoll, 0) })
	}
	b.Run("max_poll_records=100/commit_delay=10ms", func(b *testing.B) { benchSourceIntake(b, 100, 10*time.Millisecond) })
}

func benchSourceIntake(b *testing.B, maxPoll int, commitDelay time.Duration) {
	f := startFake(b)
	if commitDelay > 0 {
		f.c.ControlKey(int16(kmsg.OffsetCommit), func(kmsg.Request) (kmsg.Response, error, bool) {
			f.c.KeepControl()
			f.c.SleepControl(func() { time.Sleep(commitDelay) })
			return nil, nil, false
		})
	}
	in := topic(fmt.Sprintf("bench-intake-%d", time.Now().UnixNano()))
	if err := f.c.CreateTopic(in, 1, nil); err != nil {
		b.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(f.addr()), kgo.DefaultProduceTopic(in))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	body := []byte(`{"n":1}`)
	record := func(id string) *kgo.Record {
		return &kgo.Record{Value: body, Headers: h("ce_specversion", "1.0", "ce_id", id, "ce_source", "/s", "ce_type", "t", "content-type", "application/json")}
	}
	ing := &slowIngester{delay: time.Millisecond}
	connectortest.StartSource(b, "src", fmt.Sprintf(`{"type":"kafka","brokers":[%q],"topics":[%q],"group":"g","max_poll_records":%d}`, f.addr(), in, maxPoll), ing)
	// Warm up: the group is joined and the first record stored.
	if err := cl.ProduceSync(ctx, record("warm-up")).FirstErr(); err != nil {
		b.Fatal(err)
	}
	connectortest.Eventually(b, time.Minute, func() bool { return ing.events.Load() == 1 }, "the warm-up record was not stored")
	ing.events.Store(0)
	ing.calls.Store(0)
	b.ReportAllocs()
	b.ResetTimer()
	cpu := startCPU()
	recs := make([]*kgo.Record, 0, 1000)
	for i := 0; i < b.N; i++ {
		recs = append(recs, record(fmt.Sprintf("b-%d", i)))
		if len(recs) == cap(recs) || i == b.N-1 {
			if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
				b.Fatal(err)
			}
			recs = recs[:0]
		}
	}
	for deadline := time.Now().Add(2 * time.Minute); ing.events.Load() < int64(b.N); {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d events stored", ing.events.Load(), b.N)
		}
		time.Sleep(time.Millisecond)
	}
	b.StopTimer()
	cpu.report(b)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(ing.events.Load())/float64(max(ing.calls.Load(), 1)), "events/batch")
}
