package jobs

import (
	"context"
	"time"
)

// keeper renews the leases this instance holds and takes free ones, every
// RenewEvery on the wall clock.
func (m *Manager) keeper() {
	defer m.wg.Done()
	t := time.NewTicker(m.deps.RenewEvery)
	defer t.Stop()
	for {
		select {
		case <-m.ctx.Done():
			return
		case <-t.C:
		}
		m.mu.Lock()
		es := make([]*entry, 0, len(m.jobs))
		for _, e := range m.jobs {
			es = append(es, e)
		}
		m.mu.Unlock()
		for _, e := range es {
			if m.ctx.Err() != nil {
				return
			}
			m.claim(m.ctx, e, false)
		}
	}
}

// claim takes or renews e's lease and acts on a change: a job whose lease
// was lost stops at once (its run is cancelled); a job whose lease was
// gained loads its status and catches up.
func (m *Manager) claim(ctx context.Context, e *entry, added bool) {
	ctx, cancel := context.WithTimeout(ctx, max(m.deps.RenewEvery, time.Second))
	defer cancel()
	name := e.job.Name
	held, holder, err := m.deps.Leases.Acquire(ctx, leaseKey(name), m.deps.Instance)
	if err != nil {
		if m.ctx.Err() != nil {
			return // stopping: Stop gives the leases up
		}
		m.log.Warn("cannot renew or take a job's lease", "job", name, "err", err)
	}
	m.mu.Lock()
	if e.removed {
		m.mu.Unlock()
		if held {
			_ = m.deps.Leases.Release(ctx, leaseKey(name), m.deps.Instance)
		}
		return
	}
	was := e.held
	e.holder = holder
	switch {
	case was && !held:
		e.held = false
		e.backlog, e.pending, e.retryAt = nil, nil, time.Time{}
		if e.cancel != nil {
			e.cancel()
		}
		m.met.leader.WithLabelValues(name).Set(0)
		m.mu.Unlock()
		m.log.Warn("lost a job's lease; another instance runs it now", "job", name, "holder", holder)
		return
	case held && !was:
		m.mu.Unlock()
		m.log.Info("took a job's lease; this instance runs it", "job", name)
		m.gained(ctx, e, added)
		return
	}
	m.mu.Unlock()
}

// gained makes this instance run e: it loads the job's durable status and
// queues the occurrences missed since its last successful run (CatchUp),
// then, on Add, an Immediate run.
func (m *Manager) gained(ctx context.Context, e *entry, added bool) {
	name := e.job.Name
	rec := m.loadRecord(ctx, name)
	now := m.clock.Now()
	if rec.Since.IsZero() && rec.Done.IsZero() {
		rec.Since = now.UTC()
		m.saveRecord(name, rec)
	}
	var backlog []Run
	if e.job.CatchUp > 0 {
		from := rec.Done
		if from.IsZero() {
			from = rec.Since
		}
		for _, t := range Missed(e.job.Schedule, from, now, e.job.CatchUp) {
			backlog = append(backlog, Run{Scheduled: t, CatchUp: true, Attempt: 1})
		}
		if len(backlog) > 0 {
			m.log.Info("catching up missed occurrences", "job", name, "runs", len(backlog), "from", backlog[0].Scheduled)
		}
	}
	m.mu.Lock()
	if e.removed {
		m.mu.Unlock()
		if m.deps.Leases != nil {
			_ = m.deps.Leases.Release(ctx, leaseKey(name), m.deps.Instance)
		}
		return
	}
	e.held, e.holder, e.rec, e.backlog = true, m.deps.Instance, rec, backlog
	m.met.leader.WithLabelValues(name).Set(1)
	if e.state == idle && len(e.backlog) > 0 {
		next := e.backlog[0]
		e.backlog = e.backlog[1:]
		m.enqueue(e, next)
	}
	if added && e.job.Immediate {
		m.offer(e, Run{Scheduled: now, Attempt: 1})
	}
	m.mu.Unlock()
	m.wakeLoop()
}
