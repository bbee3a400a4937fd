package intake

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestQueue(t *testing.T) {
	q := NewQueue[int](3)
	for i := 1; i <= 3; i++ {
		q.Put(i)
	}
	put := make(chan bool)
	go func() { put <- q.Put(4) }() // full: waits
	select {
	case <-put:
		t.Fatal("Put did not wait on a full queue")
	case <-time.After(50 * time.Millisecond):
	}
	if got := q.Take(context.Background(), 2); len(got) != 2 || got[0] != 1 || got[1] != 2 {
		t.Fatalf("took %v", got)
	}
	if !<-put {
		t.Fatal("Put dropped")
	}
	if got := q.Take(context.Background(), 10); len(got) != 2 || got[0] != 3 || got[1] != 4 {
		t.Fatalf("took %v", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if got := q.Take(ctx, 1); got != nil {
		t.Fatalf("took %v from an empty queue", got)
	}
	q.Put(5)
	if left := q.Close(); len(left) != 1 || q.Put(6) || q.Take(context.Background(), 1) != nil {
		t.Fatalf("after Close: left %v", left)
	}
}

func TestRetry(t *testing.T) {
	n := 0
	err := Retry(context.Background(), func(context.Context) error {
		n++
		if n < 3 {
			return errors.New("not yet")
		}
		return nil
	}, nil)
	if err != nil || n != 3 {
		t.Fatalf("%v after %d", err, n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	if err := Retry(ctx, func(context.Context) error { return errors.New("never") }, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("%v", err)
	}
}
