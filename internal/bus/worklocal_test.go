package bus_test

import (
	"testing"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
	"github.com/eventbridge-dev/eventbridge/internal/bus/bustest"
)

// ReadBack hands what WORK holds below a sequence, in order and parsed,
// acknowledging nothing; Trim purges below a sequence; the durable
// consumer is gone once dropped.
func TestWorkReadBackAndTrim(t *testing.T) {
	b := bustest.New(t)
	ctx := bustest.Context(t)
	// Opened first: WORK is written on an embedded bus that listens on
	// no port only once a consumer of it was opened (an older version).
	w := b.Work()
	if err := w.Open(ctx, bus.WorkOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a", "b", "c", "d", "e"} {
		bustest.Publish(t, b, "web", bustest.Event(id, "com.example.a"))
	}
	if err := w.DropConsumer(ctx); err != nil {
		t.Fatal(err)
	}
	if c := bustest.ConsumerState(t, b, bus.StreamWork, bus.WorkConsumer); c.Exists {
		t.Fatalf("consumer %+v still there", c)
	}
	last, err := w.LastSeq(ctx)
	if err != nil || last != 5 {
		t.Fatalf("LastSeq %d %v, want 5", last, err)
	}
	var got []string
	var seqs []uint64
	err = w.ReadBack(ctx, 4, func(st bus.Stored) error {
		if st.Event == nil || st.Source != "web" || st.Key == "" || len(st.Raw) == 0 {
			t.Errorf("read back %+v", st)
		} else {
			got = append(got, st.Event.ID())
		}
		seqs = append(seqs, st.WorkSeq)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0] != "a" || got[2] != "c" || seqs[0] != 1 || seqs[2] != 3 {
		t.Fatalf("read back %v %v, want a b c at 1 2 3", got, seqs)
	}
	if n := bustest.Count(t, b, bus.StreamWork, ""); n != 5 {
		t.Fatalf("WORK holds %d after ReadBack, want 5 (nothing acknowledged)", n)
	}
	if err := w.Trim(ctx, 3); err != nil {
		t.Fatal(err)
	}
	if n := bustest.Count(t, b, bus.StreamWork, ""); n != 3 {
		t.Fatalf("WORK holds %d after Trim(3), want 3", n)
	}
	// Everything below a sequence past the last: all.
	got = got[:0]
	if err := w.ReadBack(ctx, 100, func(st bus.Stored) error { got = append(got, st.Event.ID()); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0] != "c" {
		t.Fatalf("read back %v, want c d e", got)
	}
}
