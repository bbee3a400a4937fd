package jobs_test

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/jobs"
	"github.com/eventbridge-dev/eventbridge/internal/jobs/jobstest"
	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

// TestFailingRunsLoggedOncePerStateChange: a job whose runs keep failing
// (a poll or cron source while the bus is down) logs one warning when it
// starts failing, not one per run, and one line when a run succeeds
// again, with the number of failed runs. A second series of failures is
// logged again.
func TestFailingRunsLoggedOncePerStateChange(t *testing.T) {
	var rec testkit.LogRecorder
	clock := jobstest.NewClock(t0)
	m := jobs.New(jobs.Config{Workers: 1}, jobs.Deps{Instance: "test", Clock: clock, Log: rec.Logger()})
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stop(t, m) })
	var failing atomic.Int32
	failing.Store(3)
	rc := &recorder{fail: func(jobs.Run) error {
		if failing.Add(-1) >= 0 {
			return errors.New("bus: unavailable")
		}
		return nil
	}}
	add(t, m, jobs.Job{Name: "tick", Kind: jobs.KindCron, Schedule: jobs.Every(time.Minute), Immediate: true,
		MinBackoff: time.Second, MaxBackoff: time.Second, Run: rc.run})
	// runs advances the clock until the job has run n times in all.
	runs := func(n int) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for rc.count() < n {
			if time.Now().After(deadline) {
				t.Fatalf("%d runs, want %d", rc.count(), n)
			}
			if clock.Sleepers() > 0 {
				clock.Advance(time.Second)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	const failed, recovered = "run failed", "run succeeded after failures"
	runs(4)
	testkit.Eventually(t, 5*time.Second, func() bool { return rec.Count(recovered) == 1 }, "no line when the job works again")
	warns := 0
	for _, r := range rec.Records(failed) {
		if r.Level == slog.LevelWarn {
			warns++
		}
	}
	if warns != 1 {
		t.Fatalf("%d warnings for 3 failed runs in a row, want 1", warns)
	}
	if r := rec.Records(recovered)[0]; r.Attrs["failed_runs"].Int64() != 3 || r.Attrs["job"].String() != "tick" {
		t.Errorf("recovered line %+v", r.Attrs)
	}

	failing.Store(2)
	n := rc.count()
	runs(n + 3)
	testkit.Eventually(t, 5*time.Second, func() bool { return rec.Count(recovered) == 2 }, "no line after the second series")
	warns = 0
	for _, r := range rec.Records(failed) {
		if r.Level == slog.LevelWarn {
			warns++
		}
	}
	if warns != 2 {
		t.Fatalf("%d warnings after two series of failures, want 2", warns)
	}
	if r := rec.Records(recovered)[1]; r.Attrs["failed_runs"].Int64() != 2 {
		t.Errorf("second recovered line %+v", r.Attrs)
	}
}
