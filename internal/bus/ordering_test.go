package bus

import (
	"errors"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go/jetstream"
)

// Progress tells what the WORK consumer handed out and did not settle,
// and how much of it WORK still holds; RetryOrderMarks reads the marks
// of a route's RETRY records in order, skipping records without one.
func TestWorkProgressAndRetryOrderMarks(t *testing.T) {
	for _, prefix := range []string{"", "ordered"} {
		t.Run("prefix="+prefix, func(t *testing.T) {
			cfg := Config{DataDir: t.TempDir(), Prefix: prefix}
			testWorkProgressAndRetryOrderMarks(t, openOn(t, cfg))
		})
	}
}

func testWorkProgressAndRetryOrderMarks(t *testing.T, b *Bus) {
	ctx := testCtx(t)
	w := b.Work()
	if err := w.Open(ctx, WorkOptions{MaxAckPending: 16}); err != nil {
		t.Fatal(err)
	}
	if p, err := w.Progress(ctx); err != nil || p != (WorkProgress{}) {
		t.Fatalf("progress before anything was stored: %+v, %v", p, err)
	}
	if _, err := b.Publish(ctx, "web", []*ce.Event{testEvent("a"), testEvent("b"), testEvent("c"), testEvent("d")}); err != nil {
		t.Fatal(err)
	}
	waitMsgs(t, b, StreamWork, 4)
	if p, err := w.Progress(ctx); err != nil || p != (WorkProgress{}) {
		t.Fatalf("progress before anything was handed out: %+v, %v", p, err)
	}
	s, err := w.Messages(1)
	if err != nil {
		t.Fatal(err)
	}
	var got []Msg
	for missed := 0; len(got) < 3; {
		m, err := s.Next()
		// A missed heartbeat is transient: the iterator pulls again, as
		// the router's loop goes on after it. Seen once in CI on a loaded
		// machine (a pull left unanswered for 30 s).
		if errors.Is(err, jetstream.ErrNoHeartbeat) && missed < 3 {
			missed++
			t.Logf("Next: %v (pulling again)", err)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, m)
	}
	s.Stop()
	if err := got[1].Ack(); err != nil {
		t.Fatal(err)
	}
	waitMsgs(t, b, StreamWork, 3)
	deadline := time.Now().Add(30 * time.Second)
	for {
		p, err := w.Progress(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// Handed out 1, 2, 3 (and perhaps 4, pulled ahead); 2 settled, so
		// the floor stays below 1.
		if p.AckFloor == 0 && p.Delivered >= 3 && p.Pending == int(p.Delivered)-1 && p.Stored == p.Pending {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("progress %+v, want ack floor 0 and every unsettled message stored", p)
		}
		time.Sleep(10 * time.Millisecond)
	}

	raw := []byte(`{"specversion":"1.0","id":"x","source":"s","type":"t"}`)
	for i, mark := range []OrderMark{{Key: "k1", Seq: 7}, {}, {Key: "k2", Seq: 9}} {
		rec := &RetryRecord{Delivery: Delivery{Rule: "r", Target: "t", Key: string(rune('a' + i)), Event: raw}, Order: mark}
		if err := b.PutRetry(ctx, rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.PutRetry(ctx, &RetryRecord{Delivery: Delivery{Rule: "r", Target: "other", Event: raw}, Order: OrderMark{Key: "k3", Seq: 1}}); err != nil {
		t.Fatal(err)
	}
	marks, err := b.RetryOrderMarks(ctx, "r", "t")
	if err != nil || len(marks) != 2 || marks[0] != (OrderMark{Key: "k1", Seq: 7}) || marks[1] != (OrderMark{Key: "k2", Seq: 9}) {
		t.Fatalf("marks %v, %v; want k1/7, k2/9", marks, err)
	}
	if marks, err := b.RetryOrderMarks(ctx, "r", "none"); err != nil || len(marks) != 0 {
		t.Fatalf("marks of a route without records: %v, %v", marks, err)
	}
}
