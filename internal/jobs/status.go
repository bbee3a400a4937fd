package jobs

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"
)

// List returns every job, sorted by name.
func (m *Manager) List(ctx context.Context) []Info {
	m.mu.Lock()
	names := make([]string, 0, len(m.jobs))
	for name := range m.jobs {
		names = append(names, name)
	}
	m.mu.Unlock()
	sort.Strings(names)
	out := make([]Info, 0, len(names))
	for _, name := range names {
		if info, err := m.Get(ctx, name); err == nil {
			out = append(out, info)
		}
	}
	return out
}

// Get returns one job, or ErrNotFound.
func (m *Manager) Get(ctx context.Context, name string) (Info, error) {
	m.mu.Lock()
	e, ok := m.jobs[name]
	if !ok {
		m.mu.Unlock()
		return Info{}, fmt.Errorf("%w: job %s", ErrNotFound, name)
	}
	info := Info{
		Name: name, Kind: e.job.Kind, Schedule: e.job.Schedule.String(),
		Failures: e.failures, Running: e.state == running, LeaseHolder: e.holder,
	}
	next := e.nextAt
	if !e.retryAt.IsZero() && (next.IsZero() || e.retryAt.Before(next)) {
		next = e.retryAt
	}
	if !next.IsZero() {
		n := next.UTC()
		info.NextRun = &n
	}
	local := e.rec.Last
	m.mu.Unlock()
	if m.deps.Leases == nil {
		info.LeaseHolder = m.deps.Instance
	} else if h, err := m.deps.Leases.Holder(ctx, leaseKey(name)); err == nil {
		info.LeaseHolder = h
	}
	rec := m.loadRecord(ctx, name)
	info.LastRun = rec.Last
	if info.LastRun == nil {
		info.LastRun = local
	}
	info.Paused = m.isPaused(ctx, name)
	return info, nil
}

// Stats returns the scheduler's state on this instance, with the holder
// of every job's lease as the bus has it.
func (m *Manager) Stats(ctx context.Context) SchedulerInfo {
	m.mu.Lock()
	now := time.Now()
	m.pruneRecent(now)
	si := SchedulerInfo{
		Instance: m.deps.Instance, Workers: m.cfg.Workers, Busy: m.busy, Idle: m.cfg.Workers - m.busy,
		Queue: len(m.queue), RunsPerMinute: len(m.recent), LeaseTTLMS: m.cfg.LeaseTTL.D().Milliseconds(),
		Jobs: []JobLease{},
	}
	held := map[string]bool{}
	for name, e := range m.jobs {
		si.Jobs = append(si.Jobs, JobLease{Name: name})
		held[name] = e.held
	}
	m.mu.Unlock()
	sort.Slice(si.Jobs, func(i, j int) bool { return si.Jobs[i].Name < si.Jobs[j].Name })
	for i := range si.Jobs {
		jl := &si.Jobs[i]
		jl.HeldHere = held[jl.Name]
		switch {
		case m.deps.Leases == nil:
			jl.LeaseHolder = m.deps.Instance
		default:
			h, err := m.deps.Leases.Holder(ctx, leaseKey(jl.Name))
			if err != nil && jl.HeldHere {
				h = m.deps.Instance
			}
			jl.LeaseHolder = h
		}
	}
	return si
}

// RunNow asks for a run of a job at once (ahead of its schedule, even
// when paused). The instance that holds the job's lease runs it: this one,
// or the holder reached over the bus. If the job is running, the run
// follows the one in progress. It returns once the run is queued.
func (m *Manager) RunNow(ctx context.Context, name string) error {
	m.mu.Lock()
	e, ok := m.jobs[name]
	if !ok {
		m.mu.Unlock()
		return fmt.Errorf("%w: job %s", ErrNotFound, name)
	}
	if e.held {
		m.offer(e, Run{Scheduled: m.clock.Now().UTC(), Manual: true, Attempt: 1})
		m.mu.Unlock()
		m.wakeLoop()
		return nil
	}
	holder := e.holder
	m.mu.Unlock()
	if m.deps.Relay != nil {
		rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if ok, err := m.deps.Relay.RequestJobRun(rctx, name); err == nil && ok {
			return nil
		}
	}
	return &NotHolderError{Holder: holder}
}

// serveRunRequest runs a job asked for by another instance, if this one
// holds its lease, and reports whether it did; others stay silent.
func (m *Manager) serveRunRequest(name string) bool {
	m.mu.Lock()
	e, ok := m.jobs[name]
	if !ok || !e.held || m.stopped {
		m.mu.Unlock()
		return false
	}
	m.offer(e, Run{Scheduled: m.clock.Now().UTC(), Manual: true, Attempt: 1})
	m.mu.Unlock()
	m.wakeLoop()
	return true
}

// Pause stops a job's scheduled runs on every instance until Resume. The
// flag is kept in the bus; runs asked for with RunNow still run.
func (m *Manager) Pause(ctx context.Context, name string) error {
	if !m.has(name) {
		return fmt.Errorf("%w: job %s", ErrNotFound, name)
	}
	return m.deps.State.Put(ctx, pausedKey(name), []byte(time.Now().UTC().Format(time.RFC3339)))
}

// Resume undoes Pause.
func (m *Manager) Resume(ctx context.Context, name string) error {
	if !m.has(name) {
		return fmt.Errorf("%w: job %s", ErrNotFound, name)
	}
	err := m.deps.State.Delete(ctx, pausedKey(name))
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

func (m *Manager) has(name string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.jobs[name]
	return ok
}
