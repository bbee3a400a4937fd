package bus

import (
	"context"
	"fmt"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
)

func TestArchiveScanWindowWatch(t *testing.T) {
	b := openTestBus(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	w, err := b.Archive().Watch(SourceEvents("src"), 16)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var evs []*ce.Event
	for i := 1; i <= 5; i++ {
		evs = append(evs, testEvent(fmt.Sprint("e", i)))
	}
	if _, err := b.Publish(ctx, "src", evs); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 5; i++ {
		select {
		case m := <-w.C:
			ev, err := DecodeEvent(m.Data)
			if err != nil || ev.ID() != fmt.Sprint("e", i) || m.Key == "" {
				t.Fatalf("live event %d: %v %v", i, ev, err)
			}
		case <-ctx.Done():
			t.Fatalf("live event %d not seen", i)
		}
	}

	a := b.Archive()
	scan := func(sc Scan, stopAt uint64) (seqs []uint64) {
		t.Helper()
		err := a.Scan(ctx, sc, func(m *Archived) error {
			if m.Source != "src" || m.Ingested.IsZero() || m.Key == "" {
				t.Errorf("archived %+v", m)
			}
			seqs = append(seqs, m.Seq)
			if m.Seq == stopAt {
				return ErrStopScan
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return seqs
	}
	if got := scan(Scan{}, 0); fmt.Sprint(got) != "[1 2 3 4 5]" {
		t.Errorf("whole archive: %v", got)
	}
	if got := scan(Scan{FromSeq: 4}, 0); fmt.Sprint(got) != "[4 5]" {
		t.Errorf("from 4: %v", got)
	}
	if got := scan(Scan{Subjects: []string{EventFilter("src", "")}}, 2); fmt.Sprint(got) != "[1 2]" {
		t.Errorf("stopped at 2: %v", got)
	}
	if got := scan(Scan{Subjects: []string{SourceEvents("other")}}, 0); len(got) != 0 {
		t.Errorf("other source: %v", got)
	}
	if got := scan(Scan{FromSeq: 6}, 0); len(got) != 0 {
		t.Errorf("past the end: %v", got)
	}

	if st := b.StreamStats(ctx); st[StreamEvents].Msgs != 5 || st[StreamEvents].Bytes == 0 || len(st) != 4 {
		t.Errorf("stream stats %+v", st)
	}
	if _, err := b.ConsumerStats(ctx, StreamWork, "no-such-consumer"); err == nil {
		t.Errorf("stats of a missing consumer")
	}
	first, last, err := a.Bounds(ctx)
	if err != nil || first != 1 || last != 5 {
		t.Fatalf("bounds %d..%d, %v", first, last, err)
	}
	var win []uint64
	pending, err := a.Window(ctx, AllEvents, 2, 3, 2, func(m *Archived) { win = append(win, m.Seq) })
	if err != nil || pending != 4 || fmt.Sprint(win) != "[2 3]" {
		t.Fatalf("window 2..3: %v, pending %d, %v", win, pending, err)
	}
}
