package kafka_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
)

// While the bus refuses to store, the group's committed offset does not
// move; once it stores, the offset covers exactly what was stored.
func TestCommitOnlyAfterStore(t *testing.T) {
	f := startFake(t)
	in := topic(connectortest.Channel(t))
	if err := f.c.CreateTopic(in, 1, nil); err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(f.addr()), kgo.DefaultProduceTopic(in))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const n = 20
	for i := 0; i < n; i++ {
		r := &kgo.Record{Headers: h("ce_specversion", "1.0", "ce_id", fmt.Sprintf("c-%02d", i), "ce_source", "/s", "ce_type", "t")}
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	committed := func() int64 {
		offs, err := kadm.NewClient(cl).FetchOffsets(ctx, "g")
		if err != nil {
			t.Fatal(err)
		}
		o, ok := offs.Lookup(in, 0)
		if !ok {
			return -1
		}
		return o.At
	}
	col := connectortest.NewCollector()
	col.Fail(1 << 30)
	connectortest.StartSource(t, "src", fmt.Sprintf(`{"type":"kafka","brokers":[%q],"topics":[%q],"group":"g","max_poll_records":7}`, f.addr(), in), col)
	connectortest.Eventually(t, 10*time.Second, func() bool { return colCalls(col) >= 3 }, "no store attempts")
	if c := committed(); c > 0 {
		t.Fatalf("committed offset %d while nothing was stored", c)
	}
	col.Fail(0)
	connectortest.Eventually(t, 10*time.Second, func() bool { return col.Distinct() == n }, "stored %d of %d", col.Distinct(), n)
	connectortest.Eventually(t, 10*time.Second, func() bool { return committed() == n }, "committed %d, want %d", committed(), n)
	for i, e := range col.Events()[:n] {
		if want := fmt.Sprintf("c-%02d", i); e.ID() != want {
			t.Fatalf("event %d is %s, want %s (order)", i, e.ID(), want)
		}
	}
}

// colCalls counts the Ingest calls so far: a failed one stores nothing
// but is an attempt.
func colCalls(c *connectortest.Collector) int { return c.Calls() }

// Commits run in the background: a source stopped right after storing
// still commits what it stored, so a restart does not read it again.
func TestStopCommitsWhatWasStored(t *testing.T) {
	f := startFake(t)
	in := topic(connectortest.Channel(t))
	if err := f.c.CreateTopic(in, 1, nil); err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(f.addr()), kgo.DefaultProduceTopic(in))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const n = 30
	for i := 0; i < n; i++ {
		r := &kgo.Record{Headers: h("ce_specversion", "1.0", "ce_id", fmt.Sprintf("s-%02d", i), "ce_source", "/s", "ce_type", "t")}
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	col := connectortest.NewCollector()
	src := connectortest.StartSource(t, "src", fmt.Sprintf(`{"type":"kafka","brokers":[%q],"topics":[%q],"group":"g2","max_poll_records":4}`, f.addr(), in), col)
	connectortest.Eventually(t, 10*time.Second, func() bool { return col.Distinct() == n }, "stored %d of %d", col.Distinct(), n)
	if err := src.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	offs, err := kadm.NewClient(cl).FetchOffsets(ctx, "g2")
	if err != nil {
		t.Fatal(err)
	}
	if o, ok := offs.Lookup(in, 0); !ok || o.At != n {
		t.Fatalf("committed offset %d (%v) after stop, want %d", o.At, ok, n)
	}
}

// A commit the cluster holds does not hold up reading: every record is
// stored while the first commit is still unanswered, and once commits go
// through the group's offset covers them all.
func TestSlowCommitDoesNotHoldUpReading(t *testing.T) {
	f := startFake(t)
	in := topic(connectortest.Channel(t))
	if err := f.c.CreateTopic(in, 1, nil); err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	var once sync.Once
	open := func() { once.Do(func() { close(release) }) }
	t.Cleanup(open)
	var held atomic.Int32
	f.c.ControlKey(int16(kmsg.OffsetCommit), func(kmsg.Request) (kmsg.Response, error, bool) {
		f.c.KeepControl()
		held.Add(1)
		f.c.SleepControl(func() { <-release })
		return nil, nil, false // then handled as usual
	})
	cl, err := kgo.NewClient(kgo.SeedBrokers(f.addr()), kgo.DefaultProduceTopic(in))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const n = 40
	for i := 0; i < n; i++ {
		r := &kgo.Record{Headers: h("ce_specversion", "1.0", "ce_id", fmt.Sprintf("w-%02d", i), "ce_source", "/s", "ce_type", "t")}
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	col := connectortest.NewCollector()
	connectortest.StartSource(t, "src", fmt.Sprintf(`{"type":"kafka","brokers":[%q],"topics":[%q],"group":"g3","max_poll_records":4}`, f.addr(), in), col)
	connectortest.Eventually(t, 20*time.Second, func() bool { return col.Distinct() == n }, "stored %d of %d while a commit was held", col.Distinct(), n)
	connectortest.Eventually(t, 20*time.Second, func() bool { return held.Load() > 0 }, "no commit was sent")
	open()
	connectortest.Eventually(t, 20*time.Second, func() bool {
		offs, err := kadm.NewClient(cl).FetchOffsets(ctx, "g3")
		if err != nil {
			return false
		}
		o, ok := offs.Lookup(in, 0)
		return ok && o.At == n
	}, "the committed offset did not reach %d", n)
}

// Commits are spaced by commit_interval: records stored in many polls
// within one interval are committed together (one commit, not one per
// poll), and stopping commits what was stored at once.
func TestCommitInterval(t *testing.T) {
	f := startFake(t)
	in := topic(connectortest.Channel(t))
	if err := f.c.CreateTopic(in, 1, nil); err != nil {
		t.Fatal(err)
	}
	var commits atomic.Int32
	f.c.ControlKey(int16(kmsg.OffsetCommit), func(kmsg.Request) (kmsg.Response, error, bool) {
		f.c.KeepControl()
		commits.Add(1)
		return nil, nil, false // then handled as usual
	})
	cl, err := kgo.NewClient(kgo.SeedBrokers(f.addr()), kgo.DefaultProduceTopic(in))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const n = 40
	for i := 0; i < n; i++ {
		r := &kgo.Record{Headers: h("ce_specversion", "1.0", "ce_id", fmt.Sprintf("i-%02d", i), "ce_source", "/s", "ce_type", "t")}
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	col := connectortest.NewCollector()
	src := connectortest.StartSource(t, "src", fmt.Sprintf(`{"type":"kafka","brokers":[%q],"topics":[%q],"group":"g4","max_poll_records":4,"commit_interval":"1m"}`, f.addr(), in), col)
	connectortest.Eventually(t, 20*time.Second, func() bool { return col.Distinct() == n }, "stored %d of %d", col.Distinct(), n)
	if c := col.Calls(); c < n/4 {
		t.Fatalf("%d Ingest calls, want at least %d (max_poll_records 4)", c, n/4)
	}
	if c := commits.Load(); c > 1 {
		t.Fatalf("%d commits within one commit_interval, want at most 1", c)
	}
	if err := src.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	offs, err := kadm.NewClient(cl).FetchOffsets(ctx, "g4")
	if err != nil {
		t.Fatal(err)
	}
	if o, ok := offs.Lookup(in, 0); !ok || o.At != n {
		t.Fatalf("committed offset %d (%v) after stop, want %d", o.At, ok, n)
	}
}
