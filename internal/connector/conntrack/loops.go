package conntrack

import (
	"context"
	"sync"
)

// Loops holds the background loops of a connector whose client library
// reconnects by itself (kafka, redis, postgres): Start gives them a
// context, and Stop cancels it and waits for them. It is the start-stop
// half those connectors share; Probe is the health half.
type Loops struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Start returns the context the loops run under, cancelled by Stop.
func (l *Loops) Start() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	return ctx
}

// Go runs f in the background until it returns.
func (l *Loops) Go(f func()) {
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		f()
	}()
}

// Stop cancels the loops and waits for them, or until ctx is done. Then
// release, when not nil, runs (closing the client, which unblocks a loop
// stuck in a call that ignores its context) and Stop waits for the loops
// to end; without release it does not wait beyond ctx. Stop without
// Start, or twice, does nothing.
func (l *Loops) Stop(ctx context.Context, release func()) {
	if l.cancel == nil {
		return
	}
	l.cancel()
	l.cancel = nil
	done := make(chan struct{})
	go func() { l.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
	if release != nil {
		release()
		<-done
	}
}

// Started reports whether Start ran and Stop has not.
func (l *Loops) Started() bool { return l.cancel != nil }
