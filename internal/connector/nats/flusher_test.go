package nats

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Waiters that come while a flush is in flight share the next one: each
// is settled by a flush that began after it joined, with that flush's
// outcome; one waiter alone gets a flush of its own.
func TestFlusherSharesFlushes(t *testing.T) {
	var flushes atomic.Int32
	release := make(chan error)
	started := make(chan struct{}, 10)
	f := &flusher{timeout: time.Minute, flush: func(context.Context) error {
		flushes.Add(1)
		started <- struct{}{}
		return <-release
	}}
	ctx := context.Background()
	first := make(chan error, 1)
	go func() { first <- f.wait(ctx) }()
	<-started // the first flush is in flight
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() { defer wg.Done(); errs <- f.wait(ctx) }()
	}
	// Wait for all n to have joined the next flush.
	deadline := time.Now().Add(10 * time.Second)
	for {
		f.mu.Lock()
		k := len(f.waiting)
		f.mu.Unlock()
		if k == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d waiters joined", k, n)
		}
		time.Sleep(time.Millisecond)
	}
	release <- nil // the first flush: only the first waiter's
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	<-started // the second flush, for the n others
	boom := errors.New("boom")
	release <- boom
	wg.Wait()
	close(errs)
	for err := range errs {
		if !errors.Is(err, boom) {
			t.Fatalf("got %v, want the second flush's error", err)
		}
	}
	if got := flushes.Load(); got != 2 {
		t.Fatalf("%d flushes, want 2", got)
	}
	// Alone: a flush of its own, and the flusher goes idle after it.
	go func() { <-started; release <- nil }()
	if err := f.wait(ctx); err != nil {
		t.Fatal(err)
	}
	if got := flushes.Load(); got != 3 {
		t.Fatalf("%d flushes, want 3", got)
	}
}

// A waiter whose context ends returns at once with its error; the flush
// goes on for the others.
func TestFlusherWaiterContext(t *testing.T) {
	release := make(chan struct{})
	f := &flusher{timeout: time.Minute, flush: func(context.Context) error { <-release; return nil }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.wait(ctx) }()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the waiter did not return when its context ended")
	}
	close(release)
	if err := f.wait(context.Background()); err != nil {
		t.Fatal(err)
	}
}
