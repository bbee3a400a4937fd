package kafka

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// commitTimeout bounds one commit.
const commitTimeout = 10 * time.Second

// committer commits the offsets of stored records in the background, so
// that the source's loop does not wait for each commit's round trip (or
// for a commit the client holds back, such as a retry after a stale
// member epoch, 500 ms): it polls and stores the next records meanwhile.
//
// At most one commit is in flight, and commits start at most once per
// interval (commit_interval): offsets stored meanwhile are merged (the
// highest per partition) and go in the next one. Under load a commit per
// stored batch would be a request per poll on the group coordinator,
// competing with the fetches and produces of the same brokers. An offset is only
// ever handed to the committer once its records are in the bus, so a
// commit never covers a record that was not stored: what is not yet
// committed when the source stops or a partition moves is read again
// (duplicates, which the bus drops by (source, id)), never lost.
type committer struct {
	cl  *kgo.Client
	log *slog.Logger
	// interval is the least time between the starts of two commits of
	// run (0: none).
	interval time.Duration

	// busy is held while a commit is in flight.
	busy sync.Mutex
	mu   sync.Mutex
	next map[string]map[int32]kgo.EpochOffset
	wake chan struct{}
}

func newCommitter(log *slog.Logger, interval time.Duration) *committer {
	return &committer{log: log, interval: interval, wake: make(chan struct{}, 1)}
}

// add queues the offsets after recs (stored) for the next commit.
func (c *committer) add(recs []*kgo.Record) {
	c.mu.Lock()
	if c.next == nil {
		c.next = map[string]map[int32]kgo.EpochOffset{}
	}
	for _, r := range recs {
		ps := c.next[r.Topic]
		if ps == nil {
			ps = map[int32]kgo.EpochOffset{}
			c.next[r.Topic] = ps
		}
		eo := kgo.EpochOffset{Epoch: r.LeaderEpoch, Offset: r.Offset + 1}
		if at, ok := ps[r.Partition]; !ok || at.Less(eo) {
			ps[r.Partition] = eo
		}
	}
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// take returns the queued offsets and forgets them.
func (c *committer) take() map[string]map[int32]kgo.EpochOffset {
	c.mu.Lock()
	defer c.mu.Unlock()
	next := c.next
	c.next = nil
	return next
}

// run commits what add queued, at most once per interval, until ctx is
// done, then commits what is left at once. A commit is not cancelled
// when ctx ends (cancelling one in flight closes the connection);
// commitTimeout bounds it.
func (c *committer) run(ctx context.Context) {
	cctx := context.WithoutCancel(ctx)
	var last time.Time
	for {
		select {
		case <-c.wake:
		case <-ctx.Done():
			c.flush(cctx)
			return
		}
		if wait := c.interval - time.Since(last); wait > 0 && !last.IsZero() {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				c.flush(cctx)
				return
			}
		}
		last = time.Now()
		c.flush(cctx)
	}
}

// flush commits what is queued and waits for the answer, after the
// commit in flight if there is one. The source's revoke hook calls it
// too: partitions leave with the offsets of what was stored committed.
func (c *committer) flush(ctx context.Context) {
	c.busy.Lock()
	defer c.busy.Unlock()
	offs := c.take()
	if len(offs) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, commitTimeout)
	defer cancel()
	done := make(chan error, 1)
	// CommitOffsetsSync is CommitOffsets that a rebalance does not
	// cancel; it calls the function below before it returns.
	c.cl.CommitOffsetsSync(ctx, offs, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
		if err == nil && resp != nil {
		out:
			for _, t := range resp.Topics {
				for _, p := range t.Partitions {
					if err = kerr.ErrorForCode(p.ErrorCode); err != nil {
						break out
					}
				}
			}
		}
		done <- err
	})
	if err := <-done; err != nil {
		c.log.Warn("commit failed; the records may be read again", "err", err)
	}
}
