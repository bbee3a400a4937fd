package bus

import (
	"context"
	"slices"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
)

// ReadEvents hands the events of a range in order and ends at its end,
// also when the end was removed from the archive.
func TestReadEventsRange(t *testing.T) {
	b := openTestBus(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, id := range []string{"1", "2", "3", "4", "5"} {
		if _, err := b.Publish(ctx, "web", []*ce.Event{testEvent(id)}); err != nil {
			t.Fatal(err)
		}
	}
	_, s := stream(t, b, StreamEvents)
	if err := s.DeleteMsg(ctx, 3); err != nil {
		t.Fatal(err)
	}
	read := func(from, to uint64) []uint64 {
		var got []uint64
		if err := b.ReadEvents(ctx, from, to, func(a *Archived) error {
			if a.Source != "web" || len(a.Data) == 0 || a.Ingested.IsZero() {
				t.Errorf("seq %d: %+v", a.Seq, a)
			}
			got = append(got, a.Seq)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return got
	}
	for _, c := range []struct {
		from, to uint64
		want     []uint64
	}{{2, 4, []uint64{2, 4}}, {3, 3, nil}, {1, 5, []uint64{1, 2, 4, 5}}, {6, 5, nil}} {
		if got := read(c.from, c.to); !slices.Equal(got, c.want) {
			t.Errorf("ReadEvents(%d, %d) = %v, want %v", c.from, c.to, got, c.want)
		}
	}
	if err := s.DeleteMsg(ctx, 5); err != nil {
		t.Fatal(err)
	}
	if got := read(4, 5); !slices.Equal(got, []uint64{4}) {
		t.Errorf("ReadEvents(4, 5) with 5 removed = %v", got)
	}
}
