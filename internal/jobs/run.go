package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// worker runs queued runs until the manager stops.
func (m *Manager) worker() {
	defer m.wg.Done()
	for {
		e, r, ctx, ok := m.next()
		if !ok {
			select {
			case <-m.ctx.Done():
				return
			case <-m.ready:
			}
			continue
		}
		m.execute(ctx, e, r)
	}
}

// next takes the first queued run and marks its job running.
func (m *Manager) next() (*entry, Run, context.Context, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for len(m.queue) > 0 && m.ctx.Err() == nil {
		q := m.queue[0]
		m.queue[0] = queued{}
		m.queue = m.queue[1:]
		if q.e.removed || !q.e.held {
			// Removed, or its lease was lost while it waited: the
			// instance that holds the lease now runs it.
			q.e.state = idle
			continue
		}
		var ctx context.Context
		var cancel context.CancelFunc
		if q.e.job.Timeout > 0 {
			ctx, cancel = context.WithTimeout(m.ctx, q.e.job.Timeout)
		} else {
			ctx, cancel = context.WithCancel(m.ctx)
		}
		q.e.state, q.e.cancel, q.e.done = running, cancel, make(chan struct{})
		m.busy++
		return q.e, q.run, ctx, true
	}
	return nil, Run{}, nil, false
}

// execute runs one run and records how it went.
func (m *Manager) execute(ctx context.Context, e *entry, r Run) {
	name := e.job.Name
	if !r.Manual && m.isPaused(ctx, name) {
		// A paused occurrence is done with: catching up must not emit it.
		m.mu.Lock()
		if r.Scheduled.After(e.rec.Done) {
			e.rec.Done = r.Scheduled.UTC()
		}
		rec := e.rec
		m.mu.Unlock()
		m.saveRecord(name, rec)
		m.finish(e, r, nil, false, false)
		return
	}
	started := m.clock.Now()
	t0 := time.Now()
	res, err := call(ctx, e.job, r)
	took := time.Since(t0)
	cancelled := false
	switch {
	case err == nil:
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		err = fmt.Errorf("run timed out after %s: %w", e.job.Timeout, err)
	case ctx.Err() != nil:
		cancelled = true // stopped, removed or the lease was lost: not the job's fault
	}
	m.met.observe(name, res.Items, took, err, cancelled)
	if cancelled {
		m.log.Debug("run cancelled", "job", name, "scheduled", r.Scheduled, "err", err)
		m.finish(e, r, err, true, true)
		return
	}
	st := &RunStatus{
		Scheduled: r.Scheduled.UTC(), Started: started.UTC(), DurationMS: took.Milliseconds(),
		Result: ResultOK, Items: res.Items, Manual: r.Manual, CatchUp: r.CatchUp, Attempt: r.Attempt,
		Instance: m.deps.Instance,
	}
	// A job that keeps failing (its source's peer or the bus is down) is
	// logged once when it starts failing and once when a run works again,
	// not once per run: each run's error is in its status and metrics.
	m.mu.Lock()
	failedBefore, since := e.failures, e.failingSince
	if err != nil && failedBefore == 0 {
		e.failingSince = started
	}
	m.mu.Unlock()
	switch {
	case err != nil && failedBefore == 0:
		st.Result, st.Error = ResultError, err.Error()
		m.log.Warn("run failed; the next failures in a row are logged at debug level, until a run succeeds",
			"job", name, "scheduled", r.Scheduled, "attempt", r.Attempt, "err", err)
	case err != nil:
		st.Result, st.Error = ResultError, err.Error()
		m.log.Debug("run failed", "job", name, "scheduled", r.Scheduled, "attempt", r.Attempt, "failures_in_a_row", failedBefore+1, "err", err)
	case failedBefore > 0:
		m.log.Info("run succeeded after failures", "job", name, "failed_runs", failedBefore,
			"failing_for", m.clock.Now().Sub(since).Round(time.Millisecond), "items", res.Items)
	default:
		m.log.Debug("run done", "job", name, "scheduled", r.Scheduled, "items", res.Items, "took", took)
	}
	m.mu.Lock()
	e.rec.Last = st
	if err == nil && !r.Manual && r.Scheduled.After(e.rec.Done) {
		e.rec.Done = r.Scheduled.UTC()
	}
	rec := e.rec
	m.mu.Unlock()
	m.saveRecord(name, rec)
	m.finish(e, r, err, false, true)
}

// call runs the job, turning a panic into an error.
func call(ctx context.Context, j Job, r Run) (res Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("run panicked: %v", p)
		}
	}()
	return j.Run(ctx, r)
}

// finish marks e idle and decides what runs next: a retry after a
// failure, the backlog of missed occurrences, or an occurrence that came
// due meanwhile.
func (m *Manager) finish(e *entry, r Run, err error, cancelled, counted bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e.state, e.cancel = idle, nil
	close(e.done)
	m.busy--
	if counted {
		now := time.Now()
		m.recent = append(m.recent, now)
		m.pruneRecent(now)
	}
	if e.removed || cancelled {
		return
	}
	if err != nil {
		e.failures++
		at := m.clock.Now().Add(backoff(e.job, e.failures))
		var ra *RetryAfterError
		if errors.As(err, &ra) && ra.After > 0 {
			// The other side said when to come back: the occurrences
			// before then are skipped, the retry takes their place.
			at = m.clock.Now().Add(ra.After)
			if !e.nextAt.IsZero() && !at.Before(e.nextAt) {
				e.nextAt = e.job.Schedule.Next(at)
			}
			e.pending = nil
		}
		if e.nextAt.IsZero() || at.Before(e.nextAt) {
			e.retryAt, e.retry = at, r
			e.retry.Attempt++
		}
	} else {
		e.failures = 0
	}
	if e.pending != nil && len(e.backlog) == 0 {
		e.retryAt = time.Time{} // the newer occurrence replaces the retry
	}
	if !e.held || !e.retryAt.IsZero() {
		m.wakeLoop()
		return
	}
	switch {
	case len(e.backlog) > 0:
		next := e.backlog[0]
		e.backlog = e.backlog[1:]
		m.enqueue(e, next)
	case e.pending != nil:
		next := *e.pending
		e.pending = nil
		m.enqueue(e, next)
	}
	m.wakeLoop()
}

func backoff(j Job, failures int) time.Duration {
	lo, hi := j.MinBackoff, j.MaxBackoff
	if lo <= 0 {
		lo = time.Second
	}
	if hi <= 0 {
		hi = 5 * time.Minute
	}
	d := lo
	for i := 1; i < failures && d < hi; i++ {
		d *= 2
	}
	return min(d, hi)
}

func (m *Manager) pruneRecent(now time.Time) {
	i := 0
	for i < len(m.recent) && now.Sub(m.recent[i]) > time.Minute {
		i++
	}
	m.recent = m.recent[i:]
}

func (m *Manager) isPaused(ctx context.Context, name string) bool {
	_, err := m.deps.State.Get(ctx, pausedKey(name))
	return err == nil
}

func (m *Manager) saveRecord(name string, rec record) {
	b, err := json.Marshal(rec)
	if err != nil {
		return
	}
	// The run's context may be cancelled; the record is still worth keeping.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := m.deps.State.Put(ctx, statusKey(name), b); err != nil {
		m.log.Warn("cannot save a job's status", "job", name, "err", err)
	}
}

func (m *Manager) loadRecord(ctx context.Context, name string) record {
	var rec record
	b, err := m.deps.State.Get(ctx, statusKey(name))
	if err != nil {
		if !errors.Is(err, ErrNotFound) {
			m.log.Warn("cannot read a job's status", "job", name, "err", err)
		}
		return rec
	}
	if err := json.Unmarshal(b, &rec); err != nil {
		m.log.Warn("a job's status is unreadable; starting afresh", "job", name, "err", err)
	}
	return rec
}
