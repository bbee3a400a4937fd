package jobs_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/eventbridge-dev/eventbridge/internal/jobs"
	"github.com/eventbridge-dev/eventbridge/internal/jobs/jobstest"
	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreAnyFunction("github.com/nats-io/nats-server/v2/server.(*Server).startRateLimitLogExpiration"),
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
	)
}

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

// recorder is a job's Run that keeps every run it got.
type recorder struct {
	mu   sync.Mutex
	runs []jobs.Run
	// fail, when set, decides the error of each run.
	fail func(r jobs.Run) error
	// block, when set, holds every run until it is closed or ctx ends.
	block chan struct{}
	// active and peak count concurrent runs.
	active, peak atomic.Int32
	// cancelled counts runs that ended because ctx was done.
	cancelled atomic.Int32
}

func (rc *recorder) run(ctx context.Context, r jobs.Run) (jobs.Result, error) {
	n := rc.active.Add(1)
	defer rc.active.Add(-1)
	for {
		p := rc.peak.Load()
		if n <= p || rc.peak.CompareAndSwap(p, n) {
			break
		}
	}
	rc.mu.Lock()
	rc.runs = append(rc.runs, r)
	fail, block := rc.fail, rc.block
	rc.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			rc.cancelled.Add(1)
			return jobs.Result{}, ctx.Err()
		}
	}
	if fail != nil {
		if err := fail(r); err != nil {
			return jobs.Result{}, err
		}
	}
	return jobs.Result{Items: 1}, nil
}

func (rc *recorder) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.runs)
}

func (rc *recorder) get(i int) jobs.Run {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.runs[i]
}

func newManager(t *testing.T, clock jobs.Clock, state jobs.Store, workers int) *jobs.Manager {
	t.Helper()
	m := jobs.New(jobs.Config{Workers: workers}, jobs.Deps{Instance: "test", Clock: clock, State: state})
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stop(t, m) })
	return m
}

func stop(t *testing.T, m *jobs.Manager) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := m.Stop(ctx); err != nil {
		t.Errorf("stop: %v", err)
	}
}

func add(t *testing.T, m *jobs.Manager, j jobs.Job) {
	t.Helper()
	if err := m.Add(context.Background(), j); err != nil {
		t.Fatal(err)
	}
}

// advance moves the clock once the scheduler sleeps until a later time.
func advance(t *testing.T, c *jobstest.Clock, d time.Duration) {
	t.Helper()
	testkit.Eventually(t, 5*time.Second, func() bool { return c.Sleepers() > 0 }, "the scheduler does not sleep")
	c.Advance(d)
}

func TestOneRunPerOccurrence(t *testing.T) {
	clock := jobstest.NewClock(t0.Add(30 * time.Second))
	m := newManager(t, clock, nil, 2)
	rc := &recorder{}
	add(t, m, jobs.Job{Name: "tick", Kind: jobs.KindCron, Schedule: jobs.Every(time.Minute), Run: rc.run})
	if n := rc.count(); n != 0 {
		t.Fatalf("ran %d times before its first occurrence", n)
	}
	for i := 1; i <= 3; i++ {
		advance(t, clock, time.Minute)
		testkit.Eventually(t, 5*time.Second, func() bool { return rc.count() == i }, "run %d", i)
	}
	for i := range 3 {
		r := rc.get(i)
		if want := t0.Add(time.Duration(i+1) * time.Minute); !r.Scheduled.Equal(want) || r.Attempt != 1 || r.Manual {
			t.Errorf("run %d = %+v, want scheduled %s", i, r, want)
		}
	}
	// Jumping over occurrences (a suspended host) runs once, not once per
	// occurrence passed.
	advance(t, clock, 10*time.Minute)
	testkit.Eventually(t, 5*time.Second, func() bool { return rc.count() == 4 }, "run after the jump")
	testkit.Never(t, 100*time.Millisecond, func() bool { return rc.count() > 4 }, "ran more than once after a jump")

	info, err := m.Get(context.Background(), "tick")
	if err != nil {
		t.Fatal(err)
	}
	if info.LastRun == nil || info.LastRun.Result != jobs.ResultOK || info.LastRun.Items != 1 || info.Kind != "cron" ||
		info.NextRun == nil || !info.NextRun.Equal(t0.Add(14*time.Minute)) || info.LeaseHolder != "test" {
		t.Errorf("info = %+v (last %+v)", info, info.LastRun)
	}
}

func TestBoundedWorkersAndNoOverlap(t *testing.T) {
	clock := jobstest.NewClock(t0)
	m := newManager(t, clock, nil, 2)
	block := make(chan struct{})
	recs := make([]*recorder, 5)
	for i := range recs {
		recs[i] = &recorder{block: block}
		add(t, m, jobs.Job{Name: string(rune('a' + i)), Kind: jobs.KindPoll, Schedule: jobs.Every(time.Second), Run: recs[i].run})
	}
	var total atomic.Int32
	active := func() int32 {
		total.Store(0)
		for _, rc := range recs {
			total.Add(rc.active.Load())
		}
		return total.Load()
	}
	advance(t, clock, time.Second)
	testkit.Eventually(t, 5*time.Second, func() bool { return active() == 2 }, "two runs in progress")
	st := m.Stats(context.Background())
	if st.Busy != 2 || st.Idle != 0 || st.Queue != 3 || st.Workers != 2 {
		t.Errorf("stats = %+v", st)
	}
	// More occurrences while every job is queued or running: none runs
	// twice at once, and each keeps at most one more run.
	for range 3 {
		clock.Advance(time.Second)
	}
	testkit.Never(t, 100*time.Millisecond, func() bool { return active() > 2 }, "more than two workers busy")
	close(block)
	testkit.Eventually(t, 5*time.Second, func() bool {
		n := 0
		for _, rc := range recs {
			n += rc.count()
		}
		return n == 10
	}, "each job runs its first occurrence and one coalesced later one")
	testkit.Never(t, 100*time.Millisecond, func() bool {
		n := 0
		for _, rc := range recs {
			n += rc.count()
		}
		return n > 10
	}, "coalesced occurrences ran more than once")
	for i, rc := range recs {
		if p := rc.peak.Load(); p != 1 {
			t.Errorf("job %d ran %d times at once", i, p)
		}
	}
}

func TestStopCancelsRuns(t *testing.T) {
	clock := jobstest.NewClock(t0)
	m := jobs.New(jobs.Config{Workers: 2}, jobs.Deps{Clock: clock})
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	rc := &recorder{block: make(chan struct{})} // never released
	add(t, m, jobs.Job{Name: "slow", Kind: jobs.KindPoll, Schedule: jobs.Every(time.Second), Immediate: true, Run: rc.run})
	testkit.Eventually(t, 5*time.Second, func() bool { return rc.active.Load() == 1 }, "running")
	start := time.Now()
	stop(t, m)
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("stop took %s", took)
	}
	if rc.cancelled.Load() != 1 || rc.active.Load() != 0 {
		t.Errorf("the run was not cancelled: cancelled=%d active=%d", rc.cancelled.Load(), rc.active.Load())
	}
	if err := m.Add(context.Background(), jobs.Job{Name: "late", Schedule: jobs.Every(time.Second), Run: rc.run}); !errors.Is(err, jobs.ErrStopped) {
		t.Errorf("add after stop: %v", err)
	}
}

func TestRemoveCancelsAndWaits(t *testing.T) {
	clock := jobstest.NewClock(t0)
	m := newManager(t, clock, nil, 1)
	rc := &recorder{block: make(chan struct{})}
	add(t, m, jobs.Job{Name: "slow", Kind: jobs.KindPoll, Schedule: jobs.Every(time.Second), Immediate: true, Run: rc.run})
	testkit.Eventually(t, 5*time.Second, func() bool { return rc.active.Load() == 1 }, "running")
	if err := m.Remove(context.Background(), "slow"); err != nil {
		t.Fatal(err)
	}
	if rc.active.Load() != 0 || rc.cancelled.Load() != 1 {
		t.Errorf("remove returned with the run in progress")
	}
	if _, err := m.Get(context.Background(), "slow"); !errors.Is(err, jobs.ErrNotFound) {
		t.Errorf("get after remove: %v", err)
	}
	// The name is free again, and the worker too.
	rc2 := &recorder{}
	add(t, m, jobs.Job{Name: "slow", Kind: jobs.KindPoll, Schedule: jobs.Every(time.Second), Immediate: true, Run: rc2.run})
	testkit.Eventually(t, 5*time.Second, func() bool { return rc2.count() == 1 }, "the new job runs")
	if err := m.Add(context.Background(), jobs.Job{Name: "slow", Schedule: jobs.Every(time.Second), Run: rc2.run}); !errors.Is(err, jobs.ErrExists) {
		t.Errorf("duplicate add: %v", err)
	}
}

func TestRetryWithBackoffAndRetryAfter(t *testing.T) {
	clock := jobstest.NewClock(t0)
	m := newManager(t, clock, nil, 1)
	var calls atomic.Int32
	rc := &recorder{fail: func(r jobs.Run) error {
		switch calls.Add(1) {
		case 1:
			return jobs.RetryAfter(errors.New("HTTP 429"), 20*time.Second)
		case 2:
			return errors.New("HTTP 500")
		}
		return nil
	}}
	add(t, m, jobs.Job{Name: "flaky", Kind: jobs.KindPoll, Schedule: jobs.Every(time.Hour), Immediate: true,
		MinBackoff: 5 * time.Second, Run: rc.run})
	testkit.Eventually(t, 5*time.Second, func() bool { return rc.count() == 1 }, "first run")
	testkit.Eventually(t, 5*time.Second, func() bool {
		info, _ := m.Get(context.Background(), "flaky")
		return info.NextRun != nil && info.NextRun.Equal(t0.Add(20*time.Second))
	}, "retry at Retry-After")
	info, _ := m.Get(context.Background(), "flaky")
	if info.LastRun == nil || info.LastRun.Result != jobs.ResultError || info.Failures != 1 {
		t.Errorf("after a failure: %+v (last %+v)", info, info.LastRun)
	}
	advance(t, clock, 19*time.Second)
	testkit.Never(t, 50*time.Millisecond, func() bool { return rc.count() > 1 }, "retried before Retry-After")
	clock.Advance(time.Second)
	testkit.Eventually(t, 5*time.Second, func() bool { return rc.count() == 2 }, "retry")
	if r := rc.get(1); r.Attempt != 2 || !r.Scheduled.Equal(rc.get(0).Scheduled) {
		t.Errorf("the retry is %+v; it repeats the occurrence with attempt 2", r)
	}
	// The second failure in a row waits twice MinBackoff.
	advance(t, clock, 9*time.Second)
	testkit.Never(t, 50*time.Millisecond, func() bool { return rc.count() > 2 }, "retried before the backoff")
	clock.Advance(time.Second)
	testkit.Eventually(t, 5*time.Second, func() bool { return rc.count() == 3 }, "second retry after the backoff")
	testkit.Eventually(t, 5*time.Second, func() bool {
		info, _ := m.Get(context.Background(), "flaky")
		return info.Failures == 0 && info.LastRun != nil && info.LastRun.Result == jobs.ResultOK
	}, "recovered")
}

func TestCatchUpAfterDowntime(t *testing.T) {
	state := jobs.NewMemStore()
	clock := jobstest.NewClock(t0.Add(30 * time.Second))
	m1 := jobs.New(jobs.Config{Workers: 1}, jobs.Deps{Clock: clock, State: state})
	_ = m1.Start(context.Background())
	rc := &recorder{}
	job := jobs.Job{Name: "tick", Kind: jobs.KindCron, Schedule: jobs.Every(time.Minute), CatchUp: 3, Run: rc.run}
	add(t, m1, job)
	advance(t, clock, time.Minute) // 10:01:30, runs 10:01
	testkit.Eventually(t, 5*time.Second, func() bool { return rc.count() == 1 }, "first run")
	testkit.Eventually(t, 5*time.Second, func() bool {
		info, _ := m1.Get(context.Background(), "tick")
		return info.LastRun != nil
	}, "status saved")
	stop(t, m1)

	// Down from 10:01:30 to 10:10:30: 10:02 … 10:10 were missed; the
	// latest 3 run, oldest first, then the schedule goes on.
	clock.Set(t0.Add(10*time.Minute + 30*time.Second))
	m2 := newManager(t, clock, state, 1)
	add(t, m2, job)
	testkit.Eventually(t, 5*time.Second, func() bool { return rc.count() == 4 }, "three catch-up runs")
	for i, want := range []time.Duration{8, 9, 10} {
		r := rc.get(1 + i)
		if !r.Scheduled.Equal(t0.Add(want*time.Minute)) || !r.CatchUp {
			t.Errorf("catch-up run %d = %+v, want 10:%02d", i, r, want)
		}
	}
	advance(t, clock, time.Minute)
	testkit.Eventually(t, 5*time.Second, func() bool { return rc.count() == 5 }, "the next occurrence")
	if r := rc.get(4); !r.Scheduled.Equal(t0.Add(11*time.Minute)) || r.CatchUp {
		t.Errorf("after catching up: %+v", r)
	}
}

func TestCatchUpCoversDowntimeBeforeTheFirstRun(t *testing.T) {
	state := jobs.NewMemStore()
	clock := jobstest.NewClock(t0.Add(30 * time.Second))
	m1 := jobs.New(jobs.Config{Workers: 1}, jobs.Deps{Clock: clock, State: state})
	_ = m1.Start(context.Background())
	rc := &recorder{}
	job := jobs.Job{Name: "tick", Kind: jobs.KindCron, Schedule: jobs.Every(time.Minute), CatchUp: 10, Run: rc.run}
	add(t, m1, job)
	stop(t, m1) // before any occurrence

	clock.Set(t0.Add(3*time.Minute + 10*time.Second))
	m2 := newManager(t, clock, state, 1)
	add(t, m2, job)
	testkit.Eventually(t, 5*time.Second, func() bool { return rc.count() == 3 }, "10:01, 10:02, 10:03 caught up")
}

func TestAtRunsOnce(t *testing.T) {
	state := jobs.NewMemStore()
	at := t0.Add(time.Hour)
	clock := jobstest.NewClock(t0)
	m1 := jobs.New(jobs.Config{Workers: 1}, jobs.Deps{Clock: clock, State: state})
	_ = m1.Start(context.Background())
	rc := &recorder{}
	job := jobs.Job{Name: "once", Kind: jobs.KindCron, Schedule: jobs.At(at), CatchUp: 1, Run: rc.run}
	add(t, m1, job)
	advance(t, clock, 2*time.Hour)
	testkit.Eventually(t, 5*time.Second, func() bool { return rc.count() == 1 }, "ran at its time")
	testkit.Eventually(t, 5*time.Second, func() bool {
		info, _ := m1.Get(context.Background(), "once")
		return info.LastRun != nil && info.NextRun == nil
	}, "no next run")
	stop(t, m1)

	// Restarted later, with catch-up on, it does not run again.
	clock.Advance(time.Hour)
	m2 := newManager(t, clock, state, 1)
	add(t, m2, job)
	testkit.Never(t, 100*time.Millisecond, func() bool { return rc.count() > 1 }, "a one-off ran twice")
	if r := rc.get(0); !r.Scheduled.Equal(at) {
		t.Errorf("scheduled %s, want %s", r.Scheduled, at)
	}

	// A one-off whose time passed while the bridge was down runs once
	// when it comes back, with catch-up on.
	rc2 := &recorder{}
	missed := jobs.Job{Name: "missed", Kind: jobs.KindCron, Schedule: jobs.At(clock.Now().Add(time.Minute)), CatchUp: 1, Run: rc2.run}
	m3 := jobs.New(jobs.Config{Workers: 1}, jobs.Deps{Clock: clock, State: state})
	_ = m3.Start(context.Background())
	add(t, m3, missed)
	stop(t, m3)
	clock.Advance(time.Hour)
	m4 := newManager(t, clock, state, 1)
	add(t, m4, missed)
	testkit.Eventually(t, 5*time.Second, func() bool { return rc2.count() == 1 }, "missed one-off caught up")
	testkit.Never(t, 100*time.Millisecond, func() bool { return rc2.count() > 1 }, "ran twice")
}

func TestPauseResumeAndRunNow(t *testing.T) {
	clock := jobstest.NewClock(t0)
	m := newManager(t, clock, nil, 1)
	rc := &recorder{}
	add(t, m, jobs.Job{Name: "p", Kind: jobs.KindPoll, Schedule: jobs.Every(time.Minute), Run: rc.run})
	ctx := context.Background()
	if err := m.Pause(ctx, "p"); err != nil {
		t.Fatal(err)
	}
	if info, _ := m.Get(ctx, "p"); !info.Paused {
		t.Error("not shown as paused")
	}
	advance(t, clock, time.Minute)
	testkit.Never(t, 100*time.Millisecond, func() bool { return rc.count() > 0 }, "a paused job ran on schedule")
	// Run now works when paused.
	if err := m.RunNow(ctx, "p"); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 5*time.Second, func() bool { return rc.count() == 1 }, "run now")
	if r := rc.get(0); !r.Manual {
		t.Errorf("run now: %+v", r)
	}
	if err := m.Resume(ctx, "p"); err != nil {
		t.Fatal(err)
	}
	advance(t, clock, time.Minute)
	testkit.Eventually(t, 5*time.Second, func() bool { return rc.count() == 2 }, "runs again after resume")
	for _, err := range []error{m.Pause(ctx, "nope"), m.Resume(ctx, "nope"), m.RunNow(ctx, "nope")} {
		if !errors.Is(err, jobs.ErrNotFound) {
			t.Errorf("unknown job: %v", err)
		}
	}
}

func TestTimeoutFailsTheRun(t *testing.T) {
	m := newManager(t, jobstest.NewClock(t0), nil, 1)
	rc := &recorder{block: make(chan struct{})}
	add(t, m, jobs.Job{Name: "t", Kind: jobs.KindPoll, Schedule: jobs.Every(time.Hour), Immediate: true,
		Timeout: 20 * time.Millisecond, Run: rc.run})
	testkit.Eventually(t, 5*time.Second, func() bool {
		info, _ := m.Get(context.Background(), "t")
		return info.LastRun != nil && info.LastRun.Result == jobs.ResultError
	}, "the run times out")
	info, _ := m.Get(context.Background(), "t")
	if want := "run timed out after 20ms"; len(info.LastRun.Error) < len(want) || info.LastRun.Error[:len(want)] != want {
		t.Errorf("error = %q", info.LastRun.Error)
	}
}

func TestPanicIsAFailure(t *testing.T) {
	m := newManager(t, jobstest.NewClock(t0), nil, 1)
	add(t, m, jobs.Job{Name: "boom", Kind: jobs.KindPoll, Schedule: jobs.Every(time.Hour), Immediate: true,
		Run: func(context.Context, jobs.Run) (jobs.Result, error) { panic("oops") }})
	testkit.Eventually(t, 5*time.Second, func() bool {
		info, _ := m.Get(context.Background(), "boom")
		return info.LastRun != nil && info.LastRun.Error == "run panicked: oops"
	}, "the panic is the run's error")
}

func TestStateIsPerJob(t *testing.T) {
	m := newManager(t, jobstest.NewClock(t0), nil, 1)
	ctx := context.Background()
	a, b := m.State("a"), m.State("b")
	if err := a.Put(ctx, "k", []byte("1")); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Get(ctx, "k"); !errors.Is(err, jobs.ErrNotFound) {
		t.Errorf("b sees a's key: %v", err)
	}
	if v, err := a.Get(ctx, "k"); err != nil || string(v) != "1" {
		t.Errorf("get = %q, %v", v, err)
	}
	if err := a.Delete(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Get(ctx, "k"); !errors.Is(err, jobs.ErrNotFound) {
		t.Errorf("after delete: %v", err)
	}
}

func TestRetryAfterLongerThanTheIntervalSkipsOccurrences(t *testing.T) {
	clock := jobstest.NewClock(t0)
	m := newManager(t, clock, nil, 1)
	var calls atomic.Int32
	rc := &recorder{fail: func(jobs.Run) error {
		if calls.Add(1) == 1 {
			return jobs.RetryAfter(errors.New("HTTP 429"), 95*time.Second)
		}
		return nil
	}}
	add(t, m, jobs.Job{Name: "limited", Kind: jobs.KindPoll, Schedule: jobs.Every(30 * time.Second), Immediate: true, Run: rc.run})
	testkit.Eventually(t, 5*time.Second, func() bool {
		info, _ := m.Get(context.Background(), "limited")
		return info.NextRun != nil && info.NextRun.Equal(t0.Add(95*time.Second))
	}, "held back until Retry-After")
	for range 3 { // 10:00:30, 10:01:00, 10:01:30 are skipped
		advance(t, clock, 30*time.Second)
	}
	testkit.Never(t, 100*time.Millisecond, func() bool { return rc.count() > 1 }, "ran before Retry-After")
	advance(t, clock, 5*time.Second)
	testkit.Eventually(t, 5*time.Second, func() bool { return rc.count() == 2 }, "the retry after Retry-After")
	advance(t, clock, 25*time.Second) // 10:02:00, the schedule again
	testkit.Eventually(t, 5*time.Second, func() bool { return rc.count() == 3 }, "back on schedule")
	if r := rc.get(2); !r.Scheduled.Equal(t0.Add(2 * time.Minute)) {
		t.Errorf("run after the hold: %+v", r)
	}
}
