package bus

import (
	"context"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go/jetstream"
)

func openTestBus(t *testing.T) *Bus {
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
	s, err := b.js.Stream(ctx, name)
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

// Every event goes to WORK (deduplicated on Nats-Msg-Id) and to the
// archive (key in Eb-Key, so the server keeps one dedup map); the archive
// copy of a duplicate is deleted again.
func TestPublishWritesWorkAndArchiveOnce(t *testing.T) {
	b := openTestBus(t)
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
	if dups, err := b.Publish(ctx, "in", []*ce.Event{testEvent("a"), testEvent("b")}); err != nil || dups != 1 {
		t.Fatalf("batch: dups %d, err %v; want 1, nil", dups, err)
	}
	if n := msgs(t, b, StreamWork); n != 2 {
		t.Errorf("WORK holds %d messages, want 2", n)
	}
	if n := msgs(t, b, StreamEvents); n != 2 {
		t.Errorf("EVENTS holds %d messages, want 2 (duplicate copies deleted)", n)
	}
	w, a := lastMsg(t, b, StreamWork), lastMsg(t, b, StreamEvents)
	if w.Subject != "work.in.com%2Eexample%2Etest" || a.Subject != "events.in.com%2Eexample%2Etest" {
		t.Errorf("subjects %q and %q", w.Subject, a.Subject)
	}
	if got := w.Header.Get(jetstream.MsgIDHeader); got == "" || EventKey(w.Header) != got {
		t.Errorf("WORK copy: Nats-Msg-Id %q, key %q", got, EventKey(w.Header))
	}
	if a.Header.Get(jetstream.MsgIDHeader) != "" {
		t.Error("the archive copy has a Nats-Msg-Id: the server keeps a second dedup map")
	}
	if EventKey(a.Header) != EventKey(w.Header) || string(a.Data) != string(w.Data) {
		t.Errorf("archive copy differs: key %q vs %q", EventKey(a.Header), EventKey(w.Header))
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
