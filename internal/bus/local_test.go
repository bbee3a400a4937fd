package bus

import (
	"context"
	"sync"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go/jetstream"
)

// getMsg reads one message of a stream by sequence.
func getMsg(t *testing.T, b *Bus, name string, seq uint64) *jetstream.RawStreamMsg {
	t.Helper()
	ctx, s := stream(t, b, name)
	m, err := s.GetMsg(ctx, seq)
	if err != nil {
		t.Fatalf("%s seq %d: %v", name, seq, err)
	}
	return m
}

// TestLocalReadersGetWhatWasStored: a local reader is handed each event
// that Publish stored, once, with the sequence of its one copy (the
// archive: an embedded bus that listens on no port writes no WORK) and
// the body as stored; duplicates are not handed again, and a removed reader
// hears nothing more.
func TestLocalReadersGetWhatWasStored(t *testing.T) {
	b := openTestBus(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var mu sync.Mutex
	var got []Stored
	b.AddLocalReader("test", func(batch []Stored) {
		mu.Lock()
		got = append(got, batch...)
		mu.Unlock()
	})
	if _, err := b.Publish(ctx, "web", []*ce.Event{testEvent("a"), testEvent("b")}); err != nil {
		t.Fatal(err)
	}
	if dups, err := b.Publish(ctx, "web", []*ce.Event{testEvent("a")}); err != nil || dups != 1 {
		t.Fatalf("publish of a duplicate: dups %d, err %v", dups, err)
	}
	mu.Lock()
	n := len(got)
	mu.Unlock()
	if n != 2 {
		t.Fatalf("readers got %d events, want 2", n)
	}
	for i, s := range got {
		if s.WorkSeq != 0 || s.EventsSeq != uint64(i+1) {
			t.Errorf("event %d: sequences WORK %d EVENTS %d, want 0 and %d", i, s.WorkSeq, s.EventsSeq, i+1)
		}
		arch := getMsg(t, b, StreamEvents, s.EventsSeq)
		if string(arch.Data) != string(s.Raw) {
			t.Errorf("event %d: body differs from what the archive holds", i)
		}
		if EventKey(arch.Header) != s.Key || s.Source != "web" {
			t.Errorf("event %d: key %q source %q; stored %q", i, s.Key, s.Source, EventKey(arch.Header))
		}
		if s.Event.ID() != []string{"a", "b"}[i] {
			t.Errorf("event %d: id %q", i, s.Event.ID())
		}
	}
	b.RemoveLocalReader("test")
	if _, err := b.Publish(ctx, "web", []*ce.Event{testEvent("c")}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 {
		t.Fatalf("a removed reader got %d events, want 2", len(got))
	}
}
