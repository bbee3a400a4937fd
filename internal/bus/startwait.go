package bus

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// attemptTimeout bounds one attempt of an operation that waits for the
// cluster (a stream, bucket or consumer made or updated).
const attemptTimeout = 10 * time.Second

// Backoff between attempts: from minBackoff, doubling up to maxBackoff.
const (
	minBackoff = 250 * time.Millisecond
	maxBackoff = 5 * time.Second
)

// untilUp runs op until it succeeds, retrying with backoff while the
// cluster cannot answer (no meta leader or stream leader yet, no suitable
// peers, JetStream not ready, no answer within attemptTimeout), for at most
// bus.start_timeout. It logs once when it starts waiting and once when the
// wait ends, not once per attempt. Other errors, and the end of ctx, end it
// at once.
func (b *Bus) untilUp(ctx context.Context, what string, op func(context.Context) error) error {
	start := time.Now()
	limit := b.cfg.StartTimeout.D()
	if limit <= 0 {
		limit = defaultStartTimeout
	}
	wait := minBackoff
	waiting := false
	for {
		actx, cancel := context.WithTimeout(ctx, attemptTimeout)
		err := op(actx)
		cancel()
		if err == nil {
			if waiting {
				b.log.Info("the NATS cluster answers", "operation", what, "waited", time.Since(start).Round(time.Millisecond))
			}
			return nil
		}
		if ctx.Err() != nil || !(IsUnavailable(err) || errors.Is(err, context.DeadlineExceeded)) {
			return err
		}
		if time.Since(start)+wait > limit {
			return fmt.Errorf("the NATS cluster did not answer within bus.start_timeout (%s): %w", limit, err)
		}
		if !waiting {
			waiting = true
			b.log.Warn("waiting for the NATS cluster (a quorum, a stream leader); retrying", "operation", what, "err", err, "start_timeout", limit)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		wait = min(2*wait, maxBackoff)
	}
}
