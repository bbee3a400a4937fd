package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eventbridge-dev/eventbridge/internal/component"
)

// Deps are what a Manager works with.
type Deps struct {
	// Instance names this process: the owner of the leases it takes.
	Instance string
	// State keeps the jobs' state; nil: in memory (lost at exit).
	State Store
	// Leases decide which instance runs each job; nil: this instance runs
	// every job (one process, or tests).
	Leases Leaser
	// Relay, when set, lets RunNow reach the instance that holds a job's
	// lease (the bus: *bus.Bus).
	Relay Relay
	// Clock is nil for the wall clock. Leases are renewed on the wall
	// clock whatever this is, because their TTL runs on the bus's.
	Clock Clock
	// RenewEvery is how often leases are renewed and free ones taken.
	// Default a third of the lease TTL.
	RenewEvery time.Duration
	// Log is nil for none.
	Log *slog.Logger
	// Registerer, when set, receives the scheduler's metrics.
	Registerer prometheus.Registerer
}

// Relay carries requests to run a job now to the instance that holds its
// lease. *bus.Bus is one.
type Relay interface {
	// ServeJobRuns calls run for each request of another instance; run
	// reports whether this instance took the run.
	ServeJobRuns(run func(job string) bool) (stop func(), err error)
	// RequestJobRun asks the holder of job's lease to run it, and reports
	// whether one took the run.
	RequestJobRun(ctx context.Context, job string) (bool, error)
}

// Manager schedules jobs and runs them on a bounded pool of workers. It
// implements Scheduler for sources and component.Component for the
// bridge. Safe for concurrent use.
type Manager struct {
	cfg   Config
	deps  Deps
	clock Clock
	log   *slog.Logger
	met   *metrics

	mu     sync.Mutex
	jobs   map[string]*entry
	queue  []queued
	busy   int
	recent []time.Time // ends of runs in the last minute (wall clock)

	kick    chan struct{} // wakes the scheduling loop
	ready   chan struct{} // wakes idle workers
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	unserve func() // stops serving run requests
	started bool
	stopped bool

	component.Tracker
}

type runState int

const (
	idle runState = iota
	queuedState
	running
)

// entry is one scheduled job and what the scheduler knows of it. Its
// fields are guarded by Manager.mu.
type entry struct {
	job      Job
	nextAt   time.Time // the next occurrence (zero: none left)
	retryAt  time.Time // a retry of a failed run (zero: none)
	retry    Run
	failures int // consecutive failed runs
	// failingSince is when the first of the consecutive failed runs
	// started (logged once, with the count when a run succeeds again).
	failingSince time.Time
	backlog      []Run // missed occurrences to catch up, oldest first
	pending      *Run  // came due while the job was queued or running
	state        runState
	cancel       context.CancelFunc // of the run in progress
	done         chan struct{}      // closed when the run in progress ends
	held         bool               // this instance holds the job's lease
	holder       string             // who holds it, as last seen
	rec          record             // durable status, loaded with the lease
	removed      bool
}

type queued struct {
	e   *entry
	run Run
}

// record is a job's durable status (key status.<job> of the state store).
type record struct {
	// Last is the last run that finished.
	Last *RunStatus `json:"last,omitempty"`
	// Done is the latest scheduled occurrence that ran to success:
	// catching up starts after it.
	Done time.Time `json:"done,omitzero"`
	// Since is when the job was first scheduled: catching up starts
	// there before its first successful run.
	Since time.Time `json:"since,omitzero"`
}

func statusKey(job string) string  { return "status." + job }
func pausedKey(job string) string  { return "paused." + job }
func dataPrefix(job string) string { return "data." + job + "." }
func leaseKey(job string) string   { return "job." + job }

// New returns a manager; Start runs it. cfg must have had Defaults applied.
func New(cfg Config, deps Deps) *Manager {
	cfg.Defaults()
	if deps.State == nil {
		deps.State = NewMemStore()
	}
	if deps.Clock == nil {
		deps.Clock = SystemClock{}
	}
	if deps.Log == nil {
		deps.Log = slog.New(slog.DiscardHandler)
	}
	if deps.RenewEvery == 0 {
		deps.RenewEvery = cfg.LeaseTTL.D() / 3
	}
	if deps.Instance == "" {
		deps.Instance = "eventbridge"
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &Manager{
		cfg: cfg, deps: deps, clock: deps.Clock, log: deps.Log,
		jobs:  map[string]*entry{},
		kick:  make(chan struct{}, 1),
		ready: make(chan struct{}, cfg.Workers),
		ctx:   ctx, cancel: cancel,
	}
	m.met = newMetrics(m, deps.Registerer)
	m.Set(component.New, nil)
	return m
}

// Start runs the scheduling loop, the workers and the lease keeper.
func (m *Manager) Start(context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.started || m.stopped {
		return nil
	}
	m.started = true
	if m.deps.Relay != nil && m.deps.Leases != nil {
		stop, err := m.deps.Relay.ServeJobRuns(m.serveRunRequest)
		if err != nil {
			return fmt.Errorf("jobs: serve run requests: %w", err)
		}
		m.unserve = stop
	}
	m.wg.Add(1)
	go m.loop()
	for range m.cfg.Workers {
		m.wg.Add(1)
		go m.worker()
	}
	if m.deps.Leases != nil {
		m.wg.Add(1)
		go m.keeper()
	}
	m.SetDetail("workers", m.cfg.Workers)
	m.Set(component.Running, nil)
	return nil
}

// Stop cancels the runs in progress, waits for them until ctx is done,
// and gives up this instance's leases so that others take the jobs over
// at once.
func (m *Manager) Stop(ctx context.Context) error {
	m.mu.Lock()
	if m.stopped {
		m.mu.Unlock()
		return nil
	}
	m.stopped = true
	m.Set(component.Stopping, nil)
	// Every job's lease, not only those held as far as this instance
	// knows: a renewal cut short leaves that unknown (Release checks).
	var held []string
	for name := range m.jobs {
		held = append(held, name)
	}
	m.mu.Unlock()
	if m.unserve != nil {
		m.unserve()
	}
	m.cancel()
	done := make(chan struct{})
	go func() { m.wg.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = fmt.Errorf("jobs: runs still in progress: %w", ctx.Err())
	}
	if m.deps.Leases != nil {
		for _, name := range held {
			if rerr := m.deps.Leases.Release(ctx, leaseKey(name), m.deps.Instance); rerr != nil {
				m.log.Warn("cannot release a lease; it expires by itself", "job", name, "err", rerr)
			}
		}
	}
	m.Set(component.Terminated, nil)
	return err
}

// Add implements Scheduler. With leases, it tries to take the job's lease
// at once (within ctx); if another instance holds it, this one takes over
// when that one stops renewing it.
func (m *Manager) Add(ctx context.Context, j Job) error {
	if j.Name == "" || j.Schedule == nil || j.Run == nil {
		return errors.New("jobs: a job needs a name, a schedule and a run function")
	}
	m.mu.Lock()
	if m.stopped {
		m.mu.Unlock()
		return ErrStopped
	}
	if _, dup := m.jobs[j.Name]; dup {
		m.mu.Unlock()
		return fmt.Errorf("%w: %s", ErrExists, j.Name)
	}
	e := &entry{job: j, nextAt: j.Schedule.Next(m.clock.Now())}
	m.jobs[j.Name] = e
	m.mu.Unlock()
	if m.deps.Leases == nil {
		m.gained(ctx, e, true)
	} else {
		m.claim(ctx, e, true)
	}
	m.wakeLoop()
	return nil
}

// Remove implements Scheduler.
func (m *Manager) Remove(ctx context.Context, name string) error {
	m.mu.Lock()
	e, ok := m.jobs[name]
	if !ok {
		m.mu.Unlock()
		return nil
	}
	e.removed = true
	delete(m.jobs, name)
	if e.cancel != nil {
		e.cancel()
	}
	done := e.done
	m.mu.Unlock()
	m.met.forget(name)
	var err error
	if done != nil {
		select {
		case <-done:
		case <-ctx.Done():
			err = fmt.Errorf("jobs: %s still running: %w", name, ctx.Err())
		}
	}
	if m.deps.Leases != nil {
		if rerr := m.deps.Leases.Release(ctx, leaseKey(name), m.deps.Instance); rerr != nil {
			m.log.Warn("cannot release a lease; it expires by itself", "job", name, "err", rerr)
		}
	}
	m.wakeLoop()
	return err
}

// State implements Scheduler.
func (m *Manager) State(job string) Store {
	return prefixed{s: m.deps.State, prefix: dataPrefix(job)}
}

func (m *Manager) wakeLoop() {
	select {
	case m.kick <- struct{}{}:
	default:
	}
}

// loop fires due occurrences and retries, and sleeps until the next one.
func (m *Manager) loop() {
	defer m.wg.Done()
	for {
		now := m.clock.Now()
		var wake time.Time
		m.mu.Lock()
		for _, e := range m.jobs {
			m.fireDue(e, now)
			for _, t := range []time.Time{e.nextAt, e.retryAt} {
				if !t.IsZero() && (wake.IsZero() || t.Before(wake)) {
					wake = t
				}
			}
		}
		m.mu.Unlock()
		var timer <-chan time.Time
		release := func() {}
		if !wake.IsZero() {
			timer, release = m.clock.Until(wake)
		}
		select {
		case <-m.ctx.Done():
			release()
			return
		case <-m.kick:
		case <-timer:
		}
		release()
	}
}

// fireDue offers e's due retry and occurrence. Called with mu held.
func (m *Manager) fireDue(e *entry, now time.Time) {
	if !e.retryAt.IsZero() && !e.retryAt.After(now) {
		r := e.retry
		e.retryAt = time.Time{}
		m.offer(e, r)
	}
	if !e.nextAt.IsZero() && !e.nextAt.After(now) {
		r := Run{Scheduled: e.nextAt, Attempt: 1}
		e.nextAt = e.job.Schedule.Next(now)
		// The new occurrence does what a pending retry would have done.
		e.retryAt = time.Time{}
		m.offer(e, r)
	}
}

// offer queues a run of e, or keeps it until the run in progress ends (the
// latest one only: a job never runs twice at once, and never queues up
// more than one run). Instances without the lease let it pass. Called
// with mu held.
func (m *Manager) offer(e *entry, r Run) {
	if !e.held {
		return
	}
	if e.state == idle {
		m.enqueue(e, r)
		return
	}
	if e.pending != nil {
		m.met.skipped.WithLabelValues(e.job.Name).Inc()
	}
	e.pending = &r
}

// enqueue hands a run to the workers. Called with mu held.
func (m *Manager) enqueue(e *entry, r Run) {
	e.state = queuedState
	m.queue = append(m.queue, queued{e: e, run: r})
	select {
	case m.ready <- struct{}{}:
	default: // every worker has a wake-up waiting already
	}
}

var (
	_ Scheduler           = (*Manager)(nil)
	_ component.Component = (*Manager)(nil)
)
