package operations

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
)

// storeTimeout bounds one write or read of the store by the runner.
const storeTimeout = 5 * time.Second

// run runs op, which this instance owns: it checkpoints op, renews its
// lease, and writes how it ended.
func (m *Manager) run(ctx context.Context, op *Op, fn RunFunc) {
	defer m.wg.Done()
	defer close(op.done)
	defer func() {
		m.mu.Lock()
		delete(m.local, op.ID())
		m.mu.Unlock()
	}()
	errc := make(chan error, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				errc <- fmt.Errorf("ops: %s panicked: %v", op.ID(), p)
			}
		}()
		errc <- fn(ctx, op)
	}()
	tick := time.NewTicker(m.cfg.CheckpointEvery)
	defer tick.Stop()
	renew := time.NewTicker(m.renewEvery())
	defer renew.Stop()
	for {
		select {
		case err := <-errc:
			m.end(op, err)
			return
		case <-tick.C:
			m.checkpoint(op)
		case <-op.kick:
			m.checkpoint(op)
		case <-renew.C:
			m.renew(op)
		}
	}
}

// renew renews op's lease; op stops when it is lost.
func (m *Manager) renew(op *Op) {
	if m.cfg.Leases == nil {
		return
	}
	ctx, cancel := context.WithTimeout(m.ctx, max(m.renewEvery(), time.Second))
	defer cancel()
	held, holder, err := m.cfg.Leases.Acquire(ctx, leaseKey(op.ID()), m.cfg.Instance)
	if m.ctx.Err() != nil {
		return // stopping: the run hands over
	}
	if err != nil || !held {
		m.log.Warn("lost an operation's lease; stopping it here", "operation", op.ID(), "holder", holder, "err", err)
		op.stop(leaseLost)
	}
}

// checkpoint writes op's progress and position if they changed, and
// otherwise looks whether someone asked to cancel it.
func (m *Manager) checkpoint(op *Op) {
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	op.mu.Lock()
	dirty, rev := op.dirty, op.rec.Revision
	op.mu.Unlock()
	if !dirty {
		cur, err := m.cfg.Store.Get(ctx, op.ID())
		if err == nil && cur.Revision != rev {
			m.reconcile(op, cur)
		}
		return
	}
	rec := op.snapshot()
	rec.Updated = time.Now().UTC()
	err := m.cfg.Store.Update(ctx, &rec)
	if err == nil {
		op.mu.Lock()
		op.rec.Revision, op.rec.Updated = rec.Revision, rec.Updated
		op.mu.Unlock()
		return
	}
	op.mu.Lock()
	op.dirty = true
	op.mu.Unlock()
	if !errors.Is(err, bus.ErrRevisionMismatch) {
		m.log.Debug("cannot checkpoint an operation", "operation", op.ID(), "err", err)
		return
	}
	if cur, err := m.cfg.Store.Get(ctx, op.ID()); err == nil {
		m.reconcile(op, cur)
	} else if errors.Is(err, bus.ErrKeyNotFound) {
		op.stop(leaseLost)
	}
}

// reconcile acts on a record changed by someone else: a cancel request
// stops op (cancelled); another owner or an end stops it without a word.
// Otherwise op adopts the revision and writes at the next checkpoint.
func (m *Manager) reconcile(op *Op, cur bus.OpRecord) {
	if cur.Owner != m.cfg.Instance || cur.State != Running {
		m.log.Warn("an operation was taken over or ended elsewhere; stopping it here", "operation", op.ID(), "owner", cur.Owner, "state", cur.State)
		op.stop(leaseLost)
		return
	}
	op.mu.Lock()
	op.rec.Revision = cur.Revision
	op.rec.CancelRequested = op.rec.CancelRequested || cur.CancelRequested
	op.dirty = true
	op.mu.Unlock()
	if cur.CancelRequested {
		op.stop(byUser)
	}
}

// end writes how op ended, unless it was lost to another replica.
func (m *Manager) end(op *Op, err error) {
	why := op.reason()
	if why == notStopped && m.ctx.Err() != nil && err != nil {
		// Stopping: whatever the run answered to its context ending
		// (some errors do not wrap context.Canceled), hand it over.
		why = handOver
	}
	switch why {
	case leaseLost:
		return
	case handOver:
		m.handOver(op)
		return
	}
	state, msg := Succeeded, ""
	switch {
	case why == byUser: // even if the run got to its end meanwhile
		state = Cancelled
	case err == nil:
	default:
		state, msg = Failed, err.Error()
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	for range 5 {
		rec := op.snapshot()
		now := time.Now().UTC()
		rec.State, rec.Error, rec.Finished, rec.Updated = state, msg, now, now
		werr := m.cfg.Store.Update(ctx, &rec)
		if werr == nil {
			op.mu.Lock()
			op.rec = rec
			op.mu.Unlock()
			break
		}
		if !errors.Is(werr, bus.ErrRevisionMismatch) {
			m.log.Warn("cannot record the end of an operation", "operation", op.ID(), "err", werr)
			break
		}
		cur, gerr := m.cfg.Store.Get(ctx, op.ID())
		if gerr != nil || cur.Owner != m.cfg.Instance || cur.State != Running {
			return // no longer ours
		}
		op.mu.Lock()
		op.rec.Revision = cur.Revision
		op.mu.Unlock()
	}
	m.release(op.ID())
}

// handOver leaves op running without an owner at its last checkpoint, and
// gives its lease up: the next replica to look continues it.
func (m *Manager) handOver(op *Op) {
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	rec := op.snapshot()
	rec.Owner, rec.Updated = "", time.Now().UTC()
	if err := m.cfg.Store.Update(ctx, &rec); err != nil {
		m.log.Warn("cannot hand an operation over; another replica continues it when its lease expires", "operation", op.ID(), "err", err)
	} else {
		m.log.Info("handed an operation over", "operation", op.ID(), "checkpoint", rec.Checkpoint)
	}
	m.release(op.ID())
}

// keeper takes over operations without a live owner and forgets finished
// ones after Keep, every renewEvery.
func (m *Manager) keeper() {
	defer m.wg.Done()
	t := time.NewTicker(m.renewEvery())
	defer t.Stop()
	for {
		m.sweep()
		select {
		case <-m.ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sweep looks at every operation once.
func (m *Manager) sweep() {
	ctx, cancel := context.WithTimeout(m.ctx, storeTimeout)
	defer cancel()
	recs, err := m.cfg.Store.List(ctx)
	if err != nil {
		if m.ctx.Err() == nil {
			m.log.Debug("cannot list operations", "err", err)
		}
		return
	}
	now := time.Now()
	for _, r := range recs {
		if m.ctx.Err() != nil {
			return
		}
		if r.State != Running {
			if !r.Finished.IsZero() && now.Sub(r.Finished) > m.cfg.Keep {
				_ = m.cfg.Store.Delete(ctx, r)
			}
			continue
		}
		m.mu.Lock()
		_, mine := m.local[r.ID]
		k, known := m.kinds[r.Kind]
		m.mu.Unlock()
		if mine || !known || m.cfg.Leases == nil && r.Owner != "" && r.Owner != m.cfg.Instance {
			continue
		}
		m.takeOver(ctx, r.ID, k)
	}
}

// takeOver runs operation id here if nobody holds its lease.
func (m *Manager) takeOver(ctx context.Context, id string, k kind) {
	if m.cfg.Leases != nil {
		holder, err := m.cfg.Leases.Holder(ctx, leaseKey(id))
		if err != nil || holder != "" && holder != m.cfg.Instance {
			return
		}
		held, _, err := m.cfg.Leases.Acquire(ctx, leaseKey(id), m.cfg.Instance)
		if err != nil || !held {
			return
		}
	}
	rec, err := m.cfg.Store.Get(ctx, id)
	if err != nil || rec.State != Running {
		m.release(id)
		return
	}
	if rec.CancelRequested {
		if err := m.finishUnowned(ctx, rec); err == nil {
			m.log.Info("cancelled an operation whose owner was gone", "operation", id, "owner", rec.Owner)
		}
		m.release(id)
		return
	}
	from := rec.Owner
	rec.Owner, rec.Updated = m.cfg.Instance, time.Now().UTC()
	if err := m.cfg.Store.Update(ctx, &rec); err != nil {
		m.release(id)
		return
	}
	m.log.Info("took an operation over", "operation", id, "from", from, "checkpoint", rec.Checkpoint)
	_, _ = m.launch(rec, k)
}
