package intake

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/telemetry"
	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

const (
	failingMsg   = "cannot store events on the bus"
	recoveredMsg = "events are stored on the bus again"
)

// TestFailuresOncePerOutage: N failures log one "failing" line (with the
// first error), a success then logs one "recovered" line with the count
// of failed attempts and messages, more successes log nothing, and a
// second outage is logged again, with counts of its own.
func TestFailuresOncePerOutage(t *testing.T) {
	var rec testkit.LogRecorder
	f := NewFailures(rec.Logger(), "")
	f.Stored() // no outage: nothing to say
	if n := len(rec.Records("")); n != 0 {
		t.Fatalf("%d lines before any failure", n)
	}
	down := errors.New("bus: unavailable")
	for i := range 50 {
		f.Failed(i%3+1, down) // 1, 2, 3, 1, ... messages: 99 in all
	}
	if !f.Failing() {
		t.Fatal("not failing after 50 failures")
	}
	fl := rec.Records(failingMsg)
	if len(fl) != 1 || fl[0].Level != slog.LevelWarn || fl[0].Attrs["err"].String() != down.Error() || fl[0].Attrs["messages"].Int64() != 1 {
		t.Fatalf("failing lines %+v", fl)
	}
	if n := rec.Count(recoveredMsg); n != 0 {
		t.Fatalf("%d recovered lines while failing", n)
	}
	f.Stored()
	f.Stored()
	rl := rec.Records(recoveredMsg)
	if len(rl) != 1 || rl[0].Level != slog.LevelInfo {
		t.Fatalf("recovered lines %+v", rl)
	}
	if a, m := rl[0].Attrs["failed_attempts"].Int64(), rl[0].Attrs["failed_messages"].Int64(); a != 50 || m != 99 {
		t.Errorf("recovered: failed_attempts %d, failed_messages %d; want 50, 99", a, m)
	}
	if _, ok := rl[0].Attrs["failing_for"]; !ok {
		t.Error("recovered line without failing_for")
	}
	if f.Failing() {
		t.Fatal("still failing after a success")
	}

	other := errors.New("stream full")
	f.Failed(4, other)
	f.Failed(4, other)
	f.Stored()
	fl, rl = rec.Records(failingMsg), rec.Records(recoveredMsg)
	if len(fl) != 2 || fl[1].Attrs["err"].String() != other.Error() || fl[1].Attrs["messages"].Int64() != 4 {
		t.Fatalf("second outage: failing lines %+v", fl)
	}
	if len(rl) != 2 || rl[1].Attrs["failed_attempts"].Int64() != 2 || rl[1].Attrs["failed_messages"].Int64() != 8 {
		t.Fatalf("second outage: recovered lines %+v", rl)
	}
	if n := len(rec.Records("")); n != 4 {
		t.Errorf("%d lines in all, want 4", n)
	}
}

// TestFailuresConcurrent: failures and successes from several goroutines
// (sources with several workers) keep the lines paired: never two
// "failing" lines without a "recovered" one between them.
func TestFailuresConcurrent(t *testing.T) {
	var rec testkit.LogRecorder
	f := NewFailures(rec.Logger(), "")
	var wg sync.WaitGroup
	var failures atomic.Int64
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				if (i+g)%7 == 0 {
					f.Stored()
				} else {
					failures.Add(1)
					f.Failed(1, errors.New("down"))
				}
			}
		}()
	}
	wg.Wait()
	f.Stored()
	failing, recovered := rec.Count(failingMsg), rec.Count(recoveredMsg)
	if failing == 0 || failing != recovered {
		t.Fatalf("%d failing lines, %d recovered lines", failing, recovered)
	}
	var attempts int64
	for _, r := range rec.Records(recoveredMsg) {
		attempts += r.Attrs["failed_attempts"].Int64()
	}
	if attempts != failures.Load() {
		t.Errorf("failed attempts in the recovered lines: %d, want %d (each failure in one outage)", attempts, failures.Load())
	}
}

// TestBaseStoreLogsOncePerOutage: a source built on Base logs a bus that
// refuses its batches once, however many batches fail, and once when a
// batch is stored again; Store's error is marked ErrNotStored (so a
// caller does not log it again) and keeps the cause for errors.Is. A
// failure because the source is stopping is not logged.
func TestBaseStoreLogsOncePerOutage(t *testing.T) {
	var rec testkit.LogRecorder
	down := errors.New("bus down")
	fail := true
	ing := ingestFunc(func(context.Context, string, []*ce.Event) error {
		if fail {
			return down
		}
		return nil
	})
	var b Base
	b.Init("s", "redis", connector.Deps{Ingest: ing, Metrics: telemetry.NewMetrics(), Logger: rec.Logger()})
	two := []*ce.Event{{}, {}}
	for range 20 {
		err := b.Store(context.Background(), time.Second, two)
		if !errors.Is(err, ErrNotStored) || !errors.Is(err, down) {
			t.Fatalf("Store: %v", err)
		}
	}
	fail = false
	if err := b.Store(context.Background(), time.Second, two); err != nil {
		t.Fatal(err)
	}
	fl, rl := rec.Records(failingMsg), rec.Records(recoveredMsg)
	if len(fl) != 1 || fl[0].Attrs["source"].String() != "s" {
		t.Fatalf("failing lines %+v", fl)
	}
	if len(rl) != 1 || rl[0].Attrs["failed_attempts"].Int64() != 20 || rl[0].Attrs["failed_messages"].Int64() != 40 {
		t.Fatalf("recovered lines %+v", rl)
	}
	fail = true
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := b.Store(ctx, time.Second, two); err == nil {
		t.Fatal("no error")
	}
	if n := rec.Count(failingMsg); n != 1 {
		t.Errorf("a store failing while the source stops was logged (%d failing lines)", n)
	}
}
