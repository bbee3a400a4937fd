package batch_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/pkg/connector/batch"
)

type recorder struct {
	mu      sync.Mutex
	batches [][]int
	fail    func(v int) error // per item; nil: all written
	block   chan struct{}     // when set, flushes wait for it
}

func (r *recorder) flush(ctx context.Context, items []int) []error {
	if r.block != nil {
		select {
		case <-r.block:
		case <-ctx.Done():
			return batch.All(ctx.Err(), len(items))
		}
	}
	r.mu.Lock()
	r.batches = append(r.batches, append([]int(nil), items...))
	r.mu.Unlock()
	if r.fail == nil {
		return nil
	}
	errs := make([]error, len(items))
	for i, v := range items {
		errs[i] = r.fail(v)
	}
	return errs
}

func (r *recorder) sizes() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []int
	for _, b := range r.batches {
		out = append(out, len(b))
	}
	return out
}

// submitAll submits 0..n-1 concurrently and returns each one's outcome.
func submitAll(b *batch.Batcher[int], n, size int) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = b.Submit(context.Background(), i, size) })
	}
	wg.Wait()
	return errs
}

// Concurrent submits fill batches of MaxItems; each caller gets its own
// item's outcome.
func TestCoalesceAndPerItemOutcome(t *testing.T) {
	bad := errors.New("refused")
	r := &recorder{fail: func(v int) error {
		if v%7 == 3 {
			return bad
		}
		return nil
	}}
	// A long linger: only MaxItems closes a batch.
	b := batch.New(batch.Config{MaxItems: 10, Linger: time.Hour}, r.flush)
	defer b.Close(context.Background())
	errs := submitAll(b, 50, 1)
	for i, err := range errs {
		if (i%7 == 3) != errors.Is(err, bad) {
			t.Errorf("item %d: %v", i, err)
		}
	}
	if got := r.sizes(); fmt.Sprint(got) != "[10 10 10 10 10]" {
		t.Errorf("batch sizes %v, want five of 10", got)
	}
}

// A batch that is not full goes after Linger.
func TestLinger(t *testing.T) {
	r := &recorder{}
	b := batch.New(batch.Config{MaxItems: 100, Linger: 20 * time.Millisecond}, r.flush)
	defer b.Close(context.Background())
	start := time.Now()
	for i, err := range submitAll(b, 3, 1) {
		if err != nil {
			t.Errorf("item %d: %v", i, err)
		}
	}
	if el := time.Since(start); el < 20*time.Millisecond {
		t.Errorf("written after %s, before the linger", el)
	}
	total := 0
	for _, n := range r.sizes() {
		total += n
	}
	if total != 3 {
		t.Errorf("batches %v", r.sizes())
	}
}

// MaxBytes closes a batch before the item that would take it past the
// limit; an item over the limit goes alone.
func TestMaxBytes(t *testing.T) {
	r := &recorder{}
	b := batch.New(batch.Config{MaxItems: 100, MaxBytes: 100, Linger: 10 * time.Millisecond}, r.flush)
	defer b.Close(context.Background())
	if err := b.Submit(context.Background(), 1, 500); err != nil {
		t.Fatal(err)
	}
	submitAll(b, 12, 30) // 3 fit in 100 bytes
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, bt := range r.batches[1:] {
		if len(bt) > 3 {
			t.Errorf("a batch of %d items of 30 bytes under max_bytes 100", len(bt))
		}
	}
	if len(r.batches[0]) != 1 {
		t.Errorf("the large item shared its batch: %v", r.batches[0])
	}
}

// A caller that gives up before its batch is written takes its item out:
// it is not written.
func TestCancelBeforeWrite(t *testing.T) {
	r := &recorder{}
	b := batch.New(batch.Config{MaxItems: 3, Linger: time.Hour}, r.flush)
	defer b.Close(context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Submit(ctx, 99, 1) }()
	waitPending(t, b, 1)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Submit = %v", err)
	}
	if n := b.Pending(); n != 0 {
		t.Fatalf("%d items still pending", n)
	}
	errs := submitAll(b, 3, 1)
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, bt := range r.batches {
		for _, v := range bt {
			if v == 99 {
				t.Fatalf("the cancelled item was written: %v", r.batches)
			}
		}
	}
}

// Close writes the open batch and refuses later items.
func TestClose(t *testing.T) {
	r := &recorder{}
	b := batch.New(batch.Config{MaxItems: 100, Linger: time.Hour}, r.flush)
	done := make(chan error, 1)
	go func() { done <- b.Submit(context.Background(), 1, 1) }()
	waitPending(t, b, 1)
	if err := b.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := r.sizes(); len(got) != 1 {
		t.Fatalf("batches written at Close: %v", got)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Submit still waiting after Close")
	}
	if err := b.Submit(context.Background(), 2, 1); !errors.Is(err, batch.ErrClosed) {
		t.Fatalf("Submit after Close = %v", err)
	}
}

func waitPending(t *testing.T, b *batch.Batcher[int], n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for b.Pending() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d items pending, want %d", b.Pending(), n)
		}
		time.Sleep(time.Millisecond)
	}
}
