package bus

import (
	"context"
	"errors"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go/jetstream"
)

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// waitMsgs waits until stream holds n messages.
func waitMsgs(t *testing.T, b *Bus, name string, n uint64) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for got := msgs(t, b, name); got != n; got = msgs(t, b, name) {
		if time.Now().After(deadline) {
			t.Fatalf("%s holds %d messages, want %d", name, got, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The WORK consumer hands out each event with what the router reads of it
// (source, key, ingest time, sequence); an acknowledged message leaves
// WORK, a nak'd one comes back; Stop ends Next.
func TestWorkQueueHandsOutAndSettles(t *testing.T) {
	b := openTestBus(t)
	ctx := testCtx(t)
	w := b.Work()
	if w.IsOpen() {
		t.Fatal("open before Open")
	}
	// Opened first: an embedded bus that listens on no port writes WORK
	// only once a consumer of it was opened in the process.
	if err := w.Open(ctx, WorkOptions{MaxAckPending: 16}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Publish(ctx, "web", []*ce.Event{testEvent("a"), testEvent("b")}); err != nil {
		t.Fatal(err)
	}
	s, err := w.Messages(8)
	if err != nil {
		t.Fatal(err)
	}
	m1, err := s.Next()
	if err != nil {
		t.Fatal(err)
	}
	if m1.Source() != "web" || m1.Key() == "" || m1.Ingested().IsZero() || m1.Subject() != WorkSubject("web", "com.example.test") {
		t.Fatalf("message: source %q key %q ingested %v subject %q", m1.Source(), m1.Key(), m1.Ingested(), m1.Subject())
	}
	if e, err := DecodeEvent(m1.Data()); err != nil || e.ID() != "a" {
		t.Fatalf("first event %v, %v; want a", e, err)
	}
	info, err := m1.Info()
	if err != nil || info.Seq != 1 || info.NumDelivered != 1 || info.Time.IsZero() {
		t.Fatalf("info %+v, %v", info, err)
	}
	m2, err := s.Next()
	if err != nil {
		t.Fatal(err)
	}
	if err := m1.Ack(); err != nil {
		t.Fatal(err)
	}
	waitMsgs(t, b, StreamWork, 1)
	if err := m2.Nak(); err != nil {
		t.Fatal(err)
	}
	again, err := s.Next()
	if err != nil {
		t.Fatal(err)
	}
	if info, _ := again.Info(); info.Seq != 2 || info.NumDelivered != 2 {
		t.Fatalf("nak'd message back as %+v, want seq 2 delivered twice", info)
	}
	if err := again.Term("test"); err != nil {
		t.Fatal(err)
	}
	waitMsgs(t, b, StreamWork, 0)
	s.Stop()
	if _, err := s.Next(); !errors.Is(err, ErrConsumerStopped) {
		t.Fatalf("Next after Stop: %v, want ErrConsumerStopped", err)
	}
}

// A route's RETRY queue: a record written twice with its message id is
// stored once, fetched and decoded, a not-yet-due one handed back with a
// delay; DropRoute removes the consumer and what waits, and is idempotent.
func TestRetryQueueRoundTripAndDrop(t *testing.T) {
	b := openTestBus(t)
	ctx := testCtx(t)
	rec := &RetryRecord{Delivery: sampleDelivery()}
	for range 2 {
		if err := b.PutRetry(ctx, rec); err != nil {
			t.Fatal(err)
		}
	}
	waitMsgs(t, b, StreamRetry, 1)
	q := b.RetryQueue(rec.Rule, rec.Target)
	if _, err := q.Fetch(ctx, 1); err == nil {
		t.Fatal("Fetch before Open worked")
	}
	if err := q.Open(ctx, 0); err != nil {
		t.Fatal(err)
	}
	fctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	batch, err := q.Fetch(fctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []Msg
	for m := range batch.All() {
		got = append(got, m)
	}
	cancel()
	if err := batch.Err(); err != nil {
		t.Fatalf("a batch that ran out of time: %v", err)
	}
	if len(got) != 1 {
		t.Fatalf("fetched %d messages, want 1", len(got))
	}
	r := got[0].Retry()
	if r.Key != rec.Key || r.Attempts != rec.Attempts || string(r.Event) != string(rec.Event) {
		t.Fatalf("read back %+v, want %+v", r.Delivery, rec.Delivery)
	}
	if err := got[0].NakWithDelay(time.Hour); err != nil {
		t.Fatal(err)
	}
	st, err := b.ConsumerStats(ctx, StreamRetry, RetryConsumer(rec.Rule, rec.Target))
	if err != nil {
		t.Fatal(err)
	}
	if st.AckPending != 1 {
		t.Fatalf("consumer %+v, want the message handed back pending", st)
	}
	for range 2 {
		if err := b.DropRoute(ctx, rec.Rule, rec.Target); err != nil {
			t.Fatal(err)
		}
	}
	waitMsgs(t, b, StreamRetry, 0)
	if _, err := b.js.Consumer(ctx, StreamRetry, RetryConsumer(rec.Rule, rec.Target)); !errors.Is(err, jetstream.ErrConsumerNotFound) {
		t.Fatalf("consumer after DropRoute: %v", err)
	}
}

// PutDeadLetter writes to the route's DLQ subject, once per message id.
func TestPutDeadLetter(t *testing.T) {
	b := openTestBus(t)
	ctx := testCtx(t)
	d := &DeadLetter{Delivery: sampleDelivery(), Reason: "exhausted"}
	for range 2 {
		if err := b.PutDeadLetter(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	l, err := b.DeadLetters().Next(ctx, d.Rule, d.Target, 0)
	if err != nil {
		t.Fatal(err)
	}
	if l.Reason != "exhausted" || l.Key != d.Key {
		t.Fatalf("letter %+v", l.DeadLetter)
	}
	if _, err := b.DeadLetters().Next(ctx, d.Rule, d.Target, l.Seq+1); !errors.Is(err, ErrNoLetter) {
		t.Fatalf("a second letter: %v", err)
	}
}

// The state feed sees every archived event and can settle each later.
func TestStateFeed(t *testing.T) {
	b := openTestBus(t)
	ctx := testCtx(t)
	if _, err := b.Publish(ctx, "web", []*ce.Event{testEvent("a"), testEvent("b")}); err != nil {
		t.Fatal(err)
	}
	ch := make(chan Msg, 4)
	f, err := b.StateFeed(ctx, FeedOptions{MaxAckPending: 8, Pull: 8}, func(m Msg) { ch <- m })
	if err != nil {
		t.Fatal(err)
	}
	defer f.Stop()
	for want := uint64(1); want <= 2; want++ {
		select {
		case m := <-ch:
			if info, err := m.Info(); err != nil || info.Seq != want || m.Source() != "web" {
				t.Fatalf("message %d: %+v %v source %q", want, info, err, m.Source())
			}
			_ = m.Ack()
		case <-ctx.Done():
			t.Fatal("the feed handed out nothing")
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		st, err := b.ConsumerStats(ctx, StreamEvents, StateConsumer)
		if err == nil && st.Pending == 0 && st.AckPending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("state consumer not settled: %+v %v", st, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The state bucket's writes are conditional on the key's last revision, a
// delete included, pipelined or not.
func TestStateBucketConditionalWrites(t *testing.T) {
	b := openTestBus(t)
	ctx := testCtx(t)
	s, err := b.StateBucket(ctx, StateBucketOptions{MaxBytes: 1 << 20, MaxAge: time.Hour, MaxValueSize: 1 << 16})
	if err != nil {
		t.Fatal(err)
	}
	if l, err := s.Last(ctx, "k"); err != nil || l.Revision != 0 {
		t.Fatalf("last of a new key: %+v %v", l, err)
	}
	rev, err := s.Write(ctx, "k", []byte("v1"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Write(ctx, "k", []byte("v1 again"), 0); !errors.Is(err, ErrRevisionMismatch) {
		t.Fatalf("a write on a stale revision: %v, want ErrRevisionMismatch", err)
	}
	p, err := s.WriteAsync("k", []byte("v2"), rev)
	if err != nil {
		t.Fatal(err)
	}
	rev2, err := p.Wait(ctx)
	if err != nil || rev2 <= rev {
		t.Fatalf("pipelined write: rev %d, %v", rev2, err)
	}
	stale, err := s.WriteAsync("k", []byte("v3"), rev)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stale.Wait(ctx); !errors.Is(err, ErrRevisionMismatch) {
		t.Fatalf("a pipelined write on a stale revision: %v, want ErrRevisionMismatch", err)
	}
	if e, err := s.Get(ctx, "k"); err != nil || string(e.Value) != "v2" {
		t.Fatalf("Get: %+v %v", e, err)
	}
	if err := s.Delete(ctx, "k", 0); err != nil {
		t.Fatal(err)
	}
	l, err := s.Last(ctx, "k")
	if err != nil || !l.Deleted || l.Revision <= rev2 {
		t.Fatalf("last after delete: %+v %v", l, err)
	}
	if _, err := s.Write(ctx, "k", []byte("v4"), l.Revision); err != nil {
		t.Fatalf("a write after the delete, on its revision: %v", err)
	}
}

// A Msg wraps the client's message without allocating: the router and
// the routes pass one per event.
func TestMsgAllocatesNothing(t *testing.T) {
	var jm jetstream.Msg = &fakeJSMsg{}
	held := map[Msg]int{}
	n := testing.AllocsPerRun(1000, func() {
		m := WrapMsg(jm)
		held[m]++
		if m.IsZero() || m.Subject() != "s" {
			t.Fatal("bad wrap")
		}
	})
	if n != 0 {
		t.Fatalf("%v allocations per message, want 0", n)
	}
}

type fakeJSMsg struct{ jetstream.Msg }

func (*fakeJSMsg) Subject() string { return "s" }
