package bus

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go/jetstream"
)

func openTestBus(t testing.TB) *Bus {
	t.Helper()
	cfg := Config{DataDir: t.TempDir()}
	cfg.Defaults()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := Open(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

// reopen opens the bus of b's data directory again (b must be closed).
func reopen(t *testing.T, b *Bus) *Bus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := Open(ctx, b.cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

func testEvent(id string) *ce.Event {
	e := ce.New()
	e.SetID(id)
	e.SetSource("/test")
	e.SetType("com.example.test")
	_ = e.SetData("application/json", map[string]int{"n": 1})
	return &e
}

// stream is a handle on one of the bus's streams.
func stream(t *testing.T, b *Bus, name string) (context.Context, jetstream.Stream) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	s, err := b.js.Stream(ctx, b.n.stream(name))
	if err != nil {
		t.Fatal(err)
	}
	return ctx, s
}

func lastMsg(t *testing.T, b *Bus, name string) *jetstream.RawStreamMsg {
	t.Helper()
	ctx, s := stream(t, b, name)
	m, err := s.GetLastMsgForSubject(ctx, ">")
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return m
}

func msgs(t *testing.T, b *Bus, name string) uint64 {
	t.Helper()
	ctx, s := stream(t, b, name)
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

// Every event goes to WORK and to the archive once; a duplicate is
// written to neither. The bus decides, so neither stream keeps a dedup map
// in the server (no Nats-Msg-Id); both copies carry the key in Eb-Key.
func TestPublishWritesWorkAndArchiveOnce(t *testing.T) {
	b := twoWrites(openTestBus(t))
	ctx := context.Background()
	for i := range 3 {
		dups, err := b.Publish(ctx, "in", []*ce.Event{testEvent("a")})
		if err != nil {
			t.Fatal(err)
		}
		if want := min(i, 1); dups != want {
			t.Fatalf("send %d: %d duplicates, want %d", i+1, dups, want)
		}
	}
	if dups, err := b.Publish(ctx, "in", nil); err != nil || dups != 0 {
		t.Fatalf("empty batch: dups %d, err %v", dups, err)
	}
	if dups, err := b.Publish(ctx, "in", []*ce.Event{testEvent("a"), testEvent("b"), testEvent("b")}); err != nil || dups != 2 {
		t.Fatalf("batch: dups %d, err %v; want 2, nil", dups, err)
	}
	for _, name := range []string{StreamWork, StreamEvents} {
		ctx, s := stream(t, b, name)
		info, err := s.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.State.Msgs != 2 || info.State.LastSeq != 2 {
			t.Errorf("%s holds %d messages of %d written; want 2 of 2", name, info.State.Msgs, info.State.LastSeq)
		}
	}
	w, a := lastMsg(t, b, StreamWork), lastMsg(t, b, StreamEvents)
	if w.Subject != "work.in.com%2Eexample%2Etest" || a.Subject != "events.in.com%2Eexample%2Etest" {
		t.Errorf("subjects %q and %q", w.Subject, a.Subject)
	}
	if w.Header.Get(jetstream.MsgIDHeader) != "" || a.Header.Get(jetstream.MsgIDHeader) != "" {
		t.Error("a copy has a Nats-Msg-Id: the server keeps a dedup map")
	}
	if k := EventKey(w.Header); k == "" || EventKey(a.Header) != k || string(a.Data) != string(w.Data) {
		t.Errorf("copies differ: key %q vs %q", EventKey(a.Header), k)
	}

	// Without dedup every copy is kept, in both streams.
	for range 2 {
		if err := b.PublishNoDedup(ctx, "in", []*ce.Event{testEvent("c")}); err != nil {
			t.Fatal(err)
		}
	}
	if w, a := msgs(t, b, StreamWork), msgs(t, b, StreamEvents); w != 4 || a != 4 {
		t.Errorf("after two undeduplicated sends: WORK %d, EVENTS %d; want 4 and 4", w, a)
	}
}

// twoWrites makes b write WORK too, as with bus.listen or bus.url (or a
// consumer of WORK opened in the process).
func twoWrites(b *Bus) *Bus { b.workConsumed.Store(true); return b }

// An embedded bus that listens on no port writes each event once, to the
// archive; WORK is not written, and a duplicate is not archived again.
func TestPublishWritesOnceOnEmbeddedBus(t *testing.T) {
	b := openTestBus(t)
	ctx := context.Background()
	for range 2 {
		if _, err := b.Publish(ctx, "in", []*ce.Event{testEvent("a"), testEvent("b")}); err != nil {
			t.Fatal(err)
		}
	}
	if n := msgs(t, b, StreamEvents); n != 2 {
		t.Errorf("EVENTS holds %d, want 2", n)
	}
	_, work := stream(t, b, StreamWork)
	if info, err := work.Info(ctx); err != nil || info.State.LastSeq != 0 {
		t.Errorf("WORK was written (%+v, %v), want never", info, err)
	}
	a := lastMsg(t, b, StreamEvents)
	if a.Subject != "events.in.com%2Eexample%2Etest" || EventKey(a.Header) == "" || a.Header.Get(jetstream.MsgIDHeader) != "" {
		t.Errorf("archive copy %q %v", a.Subject, a.Header)
	}
}

// The keys stored inside the window survive a restart: they are read back
// from the archive (WORK no longer has the events the router settled).
func TestDedupSurvivesReopen(t *testing.T) {
	cfg := Config{DataDir: t.TempDir()}
	cfg.Defaults()
	ctx := context.Background()
	b, err := Open(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a", "b", "c"} {
		if _, err := b.Publish(ctx, "in", []*ce.Event{testEvent(id)}); err != nil {
			t.Fatal(err)
		}
	}
	_, work := stream(t, b, StreamWork)
	if err := work.Purge(ctx); err != nil { // as if the router had settled them
		t.Fatal(err)
	}
	b.Close()

	b, err = Open(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	if n := b.dedup.len(); n != 3 {
		t.Fatalf("%d keys read back, want 3", n)
	}
	dups, err := b.Publish(ctx, "in", []*ce.Event{testEvent("a"), testEvent("d")})
	if err != nil || dups != 1 {
		t.Fatalf("after reopening: dups %d, err %v; want 1, nil", dups, err)
	}
	if n := msgs(t, b, StreamEvents); n != 4 {
		t.Fatalf("EVENTS holds %d, want 4", n)
	}
}

// Concurrent publishes of one event store it once, and batches that name
// the same keys in opposite orders do not wait for each other forever.
func TestConcurrentDuplicates(t *testing.T) {
	b := twoWrites(openTestBus(t))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	var dups atomic.Int64
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				x, y := testEvent(fmt.Sprintf("e%d", i)), testEvent(fmt.Sprintf("f%d", i))
				batch := []*ce.Event{x, y}
				if w%2 == 1 {
					batch = []*ce.Event{y, x}
				}
				n, err := b.Publish(ctx, "in", batch)
				if err != nil {
					t.Error(err)
					return
				}
				dups.Add(int64(n))
			}
		}()
	}
	wg.Wait()
	if n := msgs(t, b, StreamEvents); n != 100 {
		t.Fatalf("EVENTS holds %d, want 100", n)
	}
	if n := msgs(t, b, StreamWork); n != 100 {
		t.Fatalf("WORK holds %d, want 100", n)
	}
	if d := dups.Load(); d != 7*100 {
		t.Fatalf("%d duplicates, want %d", d, 7*100)
	}
}

// A publish that fails leaves its key free: the producer's retry is stored,
// and the archive copy of the failed one is gone.
func TestFailedPublishIsNotRemembered(t *testing.T) {
	b := twoWrites(openTestBus(t))
	ctx, work := stream(t, b, StreamWork)
	limit := func(n int64) {
		cfg := work.CachedInfo().Config
		cfg.MaxMsgs, cfg.Discard = n, jetstream.DiscardNew
		if _, err := b.js.UpdateStream(ctx, cfg); err != nil {
			t.Fatal(err)
		}
	}
	limit(1)
	if _, err := b.Publish(ctx, "in", []*ce.Event{testEvent("a")}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Publish(ctx, "in", []*ce.Event{testEvent("b")}); err == nil {
		t.Fatal("a publish to a full WORK succeeded")
	}
	// The archive is written only after WORK took the event: after a crash
	// the keys read back from it must all be events WORK has had.
	_, events := stream(t, b, StreamEvents)
	if info, err := events.Info(ctx); err != nil || info.State.LastSeq != 1 {
		t.Fatalf("EVENTS was written %v times after WORK refused the event (%v), want 1", info.State.LastSeq, err)
	}
	b.Close()
	b = twoWrites(reopen(t, b))
	ctx, _ = stream(t, b, StreamWork)
	limit(-1)
	dups, err := b.Publish(ctx, "in", []*ce.Event{testEvent("b")})
	if err != nil || dups != 0 {
		t.Fatalf("retry: dups %d, err %v; want 0, nil", dups, err)
	}
	if n := msgs(t, b, StreamEvents); n != 2 {
		t.Fatalf("EVENTS holds %d, want 2", n)
	}
}

func TestDedupSetExpires(t *testing.T) {
	d := newDedupSet(time.Minute)
	t0 := time.Unix(1000, 0)
	ctx := context.Background()
	h := hashKey("k")
	if dup, _ := d.claim(ctx, h, t0); dup {
		t.Fatal("new key is a duplicate")
	}
	// A second claim waits until the first settles.
	got := make(chan bool)
	go func() { dup, _ := d.claim(ctx, h, t0); got <- dup }()
	select {
	case <-got:
		t.Fatal("a concurrent claim did not wait")
	case <-time.After(50 * time.Millisecond):
	}
	d.settle(h, true, t0)
	if !<-got {
		t.Fatal("the key the first claim stored is not a duplicate")
	}
	if dup, _ := d.claim(ctx, h, t0.Add(59*time.Second)); !dup {
		t.Fatal("forgotten inside the window")
	}
	if dup, _ := d.claim(ctx, h, t0.Add(61*time.Second)); dup {
		t.Fatal("remembered after the window")
	}
	d.settle(h, false, t0.Add(61*time.Second))
	if n := d.len(); n != 0 {
		t.Fatalf("%d keys after expiry and a failed store", n)
	}
}
