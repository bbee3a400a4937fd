package conntrack

import (
	"context"
	"sync"
	"time"
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

// Client holds the client of a target whose client library reconnects by
// itself (kafka, redis, postgres) while the target runs, with the probe
// that watches its connection: Start hands the client over and runs the
// probe, Get gives it to Send while the connection works, and Stop takes
// it back, stops the probe and releases it. Get is safe for concurrent
// use; Start and Stop are not (a component's lifecycle calls them in
// turn).
type Client[C any] struct {
	mu   sync.RWMutex
	cl   C
	held bool
	conn *Conn

	loops Loops
}

// Start holds cl, counts a sender link on conn, runs probe in the
// background until Stop, and waits (up to 5s, within ctx) for conn to be
// up: a target returns connected when the broker is there, and keeps
// trying in the background when it is not.
func (h *Client[C]) Start(ctx context.Context, conn *Conn, cl C, probe func(ctx context.Context, cl C)) {
	pctx := h.loops.Start()
	h.mu.Lock()
	h.cl, h.held, h.conn = cl, true, conn
	h.mu.Unlock()
	conn.Link("sender", 1)
	h.loops.Go(func() { probe(pctx, cl) })
	conn.WaitUp(ctx, 5*time.Second)
}

// Get returns the client while the connection works; otherwise Send
// returns connector.ErrNotConnected.
func (h *Client[C]) Get() (C, bool) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if !h.held || !h.conn.IsUp() {
		var zero C
		return zero, false
	}
	return h.cl, true
}

// Stop takes the client back (Get no longer returns it), stops the probe
// and then calls release with the client. Stop without Start, or twice,
// does nothing.
func (h *Client[C]) Stop(ctx context.Context, release func(C)) {
	h.mu.Lock()
	cl, held := h.cl, h.held
	var zero C
	h.cl, h.held = zero, false
	h.mu.Unlock()
	if !held {
		return
	}
	h.loops.Stop(ctx, func() { release(cl) })
	h.conn.Link("sender", -1)
}
