// Package intake is the receiving half that broker sources share: a queue
// between the client library's delivery callback and the source's worker,
// taken in batches, and the retry loop that keeps a batch unacknowledged
// until the bus has stored it.
//
// A broker library calls its message callback from its own read loop; a
// callback that blocks there stalls keep-alives and acknowledgements on
// the same connection. So the callback only puts the message in a Queue,
// and one worker per source takes batches, stores them (Store), and only
// then acknowledges them to the broker: at-least-once.
package intake

import (
	"context"
	"sync"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/connector/conntrack"
)

// Queue is a FIFO of received messages. Put never blocks below the high
// water mark, so that a broker's flow control (MQTT Receive Maximum,
// JetStream MaxAckPending) sized below it keeps the library's read loop
// free; above it Put waits, pushing back on a producer that has no flow
// control (MQTT QoS 0, core NATS). Safe for concurrent use.
type Queue[T any] struct {
	mu     sync.Mutex
	items  []T
	high   int
	ready  chan struct{} // signalled when items were added
	space  chan struct{} // signalled when items were taken
	closed bool
	done   chan struct{}
}

// NewQueue returns a queue whose Put waits while it holds high items
// (high < 1 means 1).
func NewQueue[T any](high int) *Queue[T] {
	return &Queue[T]{high: max(high, 1), ready: make(chan struct{}, 1), space: make(chan struct{}, 1), done: make(chan struct{})}
}

// Put appends v. It waits while the queue is full and returns false
// (dropping v) once the queue is closed.
func (q *Queue[T]) Put(v T) bool {
	for {
		q.mu.Lock()
		if q.closed {
			q.mu.Unlock()
			return false
		}
		if len(q.items) < q.high {
			q.items = append(q.items, v)
			q.mu.Unlock()
			signal(q.ready)
			return true
		}
		q.mu.Unlock()
		select {
		case <-q.space:
		case <-q.done:
		}
	}
}

// Take waits for at least one item and returns up to maxItems that are
// there, oldest first. It returns nil when ctx is done or the queue is
// closed and empty.
func (q *Queue[T]) Take(ctx context.Context, maxItems int) []T {
	for {
		q.mu.Lock()
		if n := min(len(q.items), max(maxItems, 1)); n > 0 {
			out := make([]T, n)
			copy(out, q.items)
			clear(q.items[:n])
			q.items = q.items[n:]
			q.mu.Unlock()
			signal(q.space)
			return out
		}
		closed := q.closed
		q.mu.Unlock()
		if closed {
			return nil
		}
		select {
		case <-q.ready:
		case <-q.done:
		case <-ctx.Done():
			return nil
		}
	}
}

// Len is the number of queued items.
func (q *Queue[T]) Len() int { q.mu.Lock(); defer q.mu.Unlock(); return len(q.items) }

// Close empties the queue and makes Put drop and Take return nil from
// then on. It returns the items that were queued, which were never
// acknowledged: the broker redelivers them.
func (q *Queue[T]) Close() []T {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return nil
	}
	q.closed = true
	close(q.done)
	left := q.items
	q.items = nil
	return left
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// Backoff bounds of Retry.
const (
	MinBackoff = 100 * time.Millisecond
	MaxBackoff = 5 * time.Second
)

// Retry calls f until it returns nil or ctx is done, waiting between
// attempts with exponential backoff (with jitter) from MinBackoff to
// MaxBackoff. onErr,
// when not nil, sees each failure. It returns nil once f succeeded, else
// ctx's error.
func Retry(ctx context.Context, f func(context.Context) error, onErr func(attempt int, err error)) error {
	bo := conntrack.Backoff{Min: MinBackoff, Max: MaxBackoff}
	for attempt := 1; ; attempt++ {
		err := f(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if onErr != nil {
			onErr(attempt, err)
		}
		t := time.NewTimer(bo.Next())
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}
