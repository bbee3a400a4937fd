package router

import (
	"context"
	"fmt"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
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
	if p.Pending > 0 {
		r.cfg.Log.Info("routes that order per key wait for the events an earlier run left unsettled",
			"pending", p.Pending, "up_to_seq", p.Delivered)
	}
	floor := func(ctx context.Context) (uint64, error) {
		p, err := r.work.Progress(ctx)
		return p.AckFloor, err
	}
	b.Set(p.Delivered, p.Pending, floor, barrierPoll, r.done)
	return nil
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
