package router

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
	"github.com/eventbridge-dev/eventbridge/internal/delivery"
)

// barrierPoll is how often the start barrier reads the WORK consumer's
// ack floor while it waits.
const barrierPoll = time.Second

// setBarrier tells the start barrier of the ordered routes which WORK
// messages an earlier process left unsettled (delivery.Barrier). It must
// run after the consumer is open and before it hands anything out.
func (r *Router) setBarrier(ctx context.Context) error {
	b := r.cfg.Keeper.Barrier()
	if b == nil {
		return nil
	}
	p, err := r.work.Progress(ctx)
	if err != nil {
		return fmt.Errorf("router: %w", err)
	}
	// The consumer's state may count messages acknowledged just before a
	// crash (it is saved after the stream's): wait only for those WORK
	// still holds.
	want := min(p.Pending, p.Stored)
	if want > 0 {
		r.cfg.Log.Info("routes that order per key wait for the events an earlier run left unsettled",
			"events", want, "pending", p.Pending, "up_to_seq", p.Delivered)
	}
	floor := func(ctx context.Context) (uint64, error) {
		p, err := r.work.Progress(ctx)
		return p.AckFloor, err
	}
	b.Set(p.Delivered, want, floor, barrierPoll, r.done)
	if want > 0 {
		go r.watchBarrier(b, time.Now())
	}
	return nil
}

// watchBarrier logs when the start barrier lifts, and warns while it
// takes much longer than ack_wait (messages the bus does not hand out
// again).
func (r *Router) watchBarrier(b *delivery.Barrier, since time.Time) {
	ackWait := cmp.Or(r.cfg.AckWait, r.cfg.Bus.Config().AckWait.D())
	warn := time.NewTicker(3 * ackWait)
	defer warn.Stop()
	for {
		select {
		case <-b.Lifted():
			r.cfg.Log.Info("routes that order per key go on", "waited", time.Since(since).Round(time.Millisecond))
			return
		case <-r.done:
			return
		case <-warn.C:
			seen, want := b.Progress()
			r.cfg.Log.Warn("routes that order per key still wait for events an earlier run left unsettled",
				"seen", seen, "of", want, "waited", time.Since(since).Round(time.Second))
		}
	}
}

// seen tells the start barrier that msg has been routed.
func (r *Router) seen(msg bus.Msg) {
	b := r.cfg.Keeper.Barrier()
	if b == nil || !b.Up() {
		return
	}
	if info, err := msg.Info(); err == nil {
		b.Seen(info.Seq)
	}
}

// seqOf is msg's WORK sequence (0 when unreadable: the task is then
// delivered unordered).
func seqOf(msg bus.Msg) uint64 {
	info, err := msg.Info()
	if err != nil {
		return 0
	}
	return info.Seq
}
