package jobs_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
	"github.com/eventbridge-dev/eventbridge/internal/jobs"
	"github.com/eventbridge-dev/eventbridge/internal/jobs/jobsbus"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

// openBus starts an embedded bus on a temporary directory.
func openBus(t *testing.T) *bus.Bus {
	t.Helper()
	cfg := bus.Config{DataDir: t.TempDir()}
	cfg.Defaults()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := bus.Open(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

// frozen is a Leaser that can be made to fail, as when its instance is
// cut off from the bus: it stops renewing.
type frozen struct {
	jobs.Leaser
	off atomic.Bool
}

func (f *frozen) Acquire(ctx context.Context, key, owner string) (bool, string, error) {
	if f.off.Load() {
		return false, "", errors.New("cut off")
	}
	return f.Leaser.Acquire(ctx, key, owner)
}

// cluster is instances sharing one bus.
type cluster struct {
	t     *testing.T
	b     *bus.Bus
	state jobs.Store
	cfg   jobs.Config
}

func newCluster(t *testing.T, ttl time.Duration) *cluster {
	b := openBus(t)
	cfg := jobs.Config{Workers: 2, LeaseTTL: spec.Duration(ttl)}
	state, _, err := jobsbus.Open(context.Background(), b, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &cluster{t: t, b: b, state: state, cfg: cfg}
}

// instance starts a manager named name with its own leaser.
func (c *cluster) instance(name string, renew time.Duration) (*jobs.Manager, *frozen) {
	c.t.Helper()
	leases, err := c.b.Leases(context.Background(), c.cfg.LeaseTTL.D())
	if err != nil {
		c.t.Fatal(err)
	}
	lf := &frozen{Leaser: leases}
	m := jobs.New(c.cfg, jobs.Deps{Instance: name, State: c.state, Leases: lf, Relay: c.b, RenewEvery: renew})
	if err := m.Start(context.Background()); err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { stop(c.t, m) })
	return m, lf
}

// ledger records which instance ran which occurrence.
type ledger struct {
	mu  sync.Mutex
	by  map[time.Time][]string
	per map[string]int
}

func newLedger() *ledger { return &ledger{by: map[time.Time][]string{}, per: map[string]int{}} }

func (l *ledger) job(instance string) func(context.Context, jobs.Run) (jobs.Result, error) {
	return func(_ context.Context, r jobs.Run) (jobs.Result, error) {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.by[r.Scheduled] = append(l.by[r.Scheduled], instance)
		l.per[instance]++
		return jobs.Result{Items: 1}, nil
	}
}

func (l *ledger) runs(instance string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.per[instance]
}

// twice returns the occurrences run more than once.
func (l *ledger) twice() map[time.Time][]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[time.Time][]string{}
	for at, who := range l.by {
		if len(who) > 1 {
			out[at] = who
		}
	}
	return out
}

func TestLeaseOneInstanceRunsEachOccurrence(t *testing.T) {
	c := newCluster(t, time.Second)
	a, fa := c.instance("a", 100*time.Millisecond)
	b, _ := c.instance("b", 100*time.Millisecond)
	l := newLedger()
	job := func(instance string) jobs.Job {
		return jobs.Job{Name: "tick", Kind: jobs.KindCron, Schedule: jobs.Every(100 * time.Millisecond), Run: l.job(instance)}
	}
	add(t, a, job("a"))
	add(t, b, job("b"))
	testkit.Eventually(t, 10*time.Second, func() bool { return l.runs("a") >= 5 }, "a runs the job")
	if n := l.runs("b"); n != 0 {
		t.Errorf("b ran %d occurrences while a held the lease", n)
	}
	st := b.Stats(context.Background())
	if len(st.Jobs) != 1 || st.Jobs[0].LeaseHolder != "a" || st.Jobs[0].HeldHere {
		t.Errorf("b's view: %+v", st.Jobs)
	}

	// a stops renewing (cut off, or hung): b takes over once the lease
	// expires, and a stops running the job at once.
	cut := time.Now()
	fa.off.Store(true)
	testkit.Eventually(t, 10*time.Second, func() bool { return l.runs("b") >= 1 }, "b takes over")
	took := time.Since(cut)
	t.Logf("b took over %s after a stopped renewing (lease TTL 1s)", took)
	if took < 500*time.Millisecond {
		t.Errorf("b took over after %s, before the lease could expire", took)
	}
	// Within jobs.lease_ttl of a's last renewal, plus b's renewal period
	// to notice, plus one tick of the job and some slack for a busy machine.
	if took > time.Second+100*time.Millisecond+time.Second {
		t.Errorf("b took over after %s, want within the lease TTL (1s) and a renewal period", took)
	}
	testkit.Eventually(t, 10*time.Second, func() bool { return l.runs("b") >= 3 }, "b runs the job")
	aRuns := l.runs("a")
	testkit.Never(t, 300*time.Millisecond, func() bool { return l.runs("a") > aRuns }, "a still runs the job without its lease")
	if dup := l.twice(); len(dup) > 0 {
		t.Errorf("occurrences run twice: %v", dup)
	}
	if info, _ := a.Get(context.Background(), "tick"); info.LeaseHolder != "b" {
		t.Errorf("a sees holder %q", info.LeaseHolder)
	}
}

func TestLeaseHandedOverOnStop(t *testing.T) {
	c := newCluster(t, 5*time.Second)
	a, _ := c.instance("a", 100*time.Millisecond)
	b, _ := c.instance("b", 100*time.Millisecond)
	l := newLedger()
	add(t, a, jobs.Job{Name: "tick", Kind: jobs.KindPoll, Schedule: jobs.Every(100 * time.Millisecond), Run: l.job("a")})
	add(t, b, jobs.Job{Name: "tick", Kind: jobs.KindPoll, Schedule: jobs.Every(100 * time.Millisecond), Run: l.job("b")})
	testkit.Eventually(t, 10*time.Second, func() bool { return l.runs("a") >= 2 }, "a runs the job")
	start := time.Now()
	stop(t, a) // gives the lease up
	testkit.Eventually(t, 10*time.Second, func() bool { return l.runs("b") >= 1 }, "b takes over")
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("b took over after %s: the lease was not released", took)
	}
	if dup := l.twice(); len(dup) > 0 {
		t.Errorf("occurrences run twice: %v", dup)
	}
}

func TestRunNowReachesTheHolder(t *testing.T) {
	c := newCluster(t, 5*time.Second)
	a, _ := c.instance("a", 100*time.Millisecond)
	b, _ := c.instance("b", 100*time.Millisecond)
	l := newLedger()
	add(t, a, jobs.Job{Name: "hourly", Kind: jobs.KindPoll, Schedule: jobs.Every(time.Hour), Run: l.job("a")})
	add(t, b, jobs.Job{Name: "hourly", Kind: jobs.KindPoll, Schedule: jobs.Every(time.Hour), Run: l.job("b")})
	if err := b.RunNow(context.Background(), "hourly"); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 5*time.Second, func() bool { return l.runs("a") == 1 }, "a runs it")
	if l.runs("b") != 0 {
		t.Error("b ran a job whose lease a holds")
	}
	// Everyone sees the last run and the pause, whoever runs the job.
	testkit.Eventually(t, 5*time.Second, func() bool {
		info, _ := b.Get(context.Background(), "hourly")
		return info.LastRun != nil && info.LastRun.Instance == "a" && info.LastRun.Manual
	}, "b shows a's run")
	if err := b.Pause(context.Background(), "hourly"); err != nil {
		t.Fatal(err)
	}
	if info, _ := a.Get(context.Background(), "hourly"); !info.Paused {
		t.Error("a does not see the pause made on b")
	}
}
