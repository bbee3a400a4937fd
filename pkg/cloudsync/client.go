package cloudsync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
)

// ConnectionState is a step of a client's connection life.
type ConnectionState string

// The connection states a client reports.
const (
	// Connected: a (re)connect to the broker succeeded.
	Connected ConnectionState = "connected"
	// Lost: the transport reported an error; the client reconnects.
	Lost ConnectionState = "lost"
	// Subscribed: the first Subscribe succeeded.
	Subscribed ConnectionState = "subscribed"
	// Resubscribed: after a reconnect the subscription is back.
	Resubscribed ConnectionState = "resubscribed"
	// Resynced: the automatic resync after a (re)subscribe was sent (Err
	// says why it failed, if it did).
	Resynced ConnectionState = "resynced"
)

// ConnectionEvent is a change of a client's connection. A controller
// should resync its caches after Resubscribed (the client does it itself
// unless WithResync(false)).
type ConnectionEvent struct {
	State ConnectionState
	Err   error
	Time  time.Time
}

// Option tunes a client.
type Option func(*clientConfig)

type clientConfig struct {
	resync     bool
	repeat     time.Duration // see WithResyncRepeat
	onConn     func(ConnectionEvent)
	minBackoff time.Duration
	maxBackoff time.Duration
	log        *slog.Logger
}

// WithResync turns the automatic resync after every successful
// (re)subscribe on (the default) or off.
func WithResync(enabled bool) Option { return func(c *clientConfig) { c.resync = enabled } }

// WithResyncRepeat sends the automatic resync after a reconnect once more
// after d (default 5 s; 0 turns it off). A resync request sent while the
// peer is still reconnecting is lost: neither MQTT (clean start) nor the
// gRPC broker keeps it for an absent subscriber, and an OCM peer does not
// ask again, nor does the gRPC broker pass an agent's spec resync request
// on to the sources. The repeat is cheap: only what still differs is
// answered.
func WithResyncRepeat(d time.Duration) Option { return func(c *clientConfig) { c.repeat = d } }

// WithConnectionHandler calls fn for every ConnectionEvent, in order, on
// the client's goroutine (fn must not block for long). Reconnects()
// receives them too.
func WithConnectionHandler(fn func(ConnectionEvent)) Option {
	return func(c *clientConfig) { c.onConn = fn }
}

// WithBackoff sets the delay between reconnect attempts: it starts at min
// and doubles up to max (defaults 500 ms and 30 s).
func WithBackoff(minDelay, maxDelay time.Duration) Option {
	return func(c *clientConfig) {
		if minDelay > 0 {
			c.minBackoff = minDelay
		}
		if maxDelay >= c.minBackoff {
			c.maxBackoff = maxDelay
		}
	}
}

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(c *clientConfig) { c.log = l } }

// ErrNotConnected is returned by Publish and Resync while the client is
// reconnecting.
var ErrNotConnected = errors.New("cloudsync: the client is not connected")

// receiveEndGrace is how long a client waits for a transport error after
// Receive returned nil on its own.
const receiveEndGrace = 3 * time.Second

// connEventBuffer is how many connection events Reconnects() keeps for a
// slow reader; older ones are dropped.
const connEventBuffer = 64

// core is what source and agent clients share: the transport, the
// reconnect loop and the receive loop.
type core struct {
	role     Role
	id       string
	t        Transport
	dataType DataType
	cfg      clientConfig
	resync   func(ctx context.Context) error
	// onSubscribe runs before the receiver starts after every
	// (re)subscribe.
	onSubscribe func()
	life        context.Context
	stop        context.CancelFunc

	events chan ConnectionEvent
	errs   chan error // transport errors, coalesced

	mu         sync.Mutex
	connected  bool
	dispatch   func(ctx context.Context, evt cloudevents.Event)
	subCtx     context.Context
	recvCancel context.CancelFunc
	recvDone   chan struct{}
	closeOnce  sync.Once
	loopDone   chan struct{}
}

func newCore(ctx context.Context, role Role, id string, t Transport, dt DataType, opts []Option) (*core, error) {
	if t == nil {
		return nil, errors.New("cloudsync: a Transport is required")
	}
	if id == "" {
		return nil, fmt.Errorf("cloudsync: the %s id is required", role)
	}
	cfg := clientConfig{resync: true, repeat: 5 * time.Second, minBackoff: 500 * time.Millisecond, maxBackoff: 30 * time.Second, log: slog.Default()}
	for _, o := range opts {
		o(&cfg)
	}
	c := &core{
		role: role, id: id, t: t, dataType: dt, cfg: cfg,
		events:   make(chan ConnectionEvent, connEventBuffer),
		errs:     make(chan error, 1),
		loopDone: make(chan struct{}),
	}
	c.life, c.stop = context.WithCancel(context.WithoutCancel(ctx))
	if err := t.Connect(ctx); err != nil {
		c.stop()
		return nil, fmt.Errorf("cloudsync: %s %s: connect: %w", role, id, err)
	}
	c.connected = true
	c.emit(ConnectionEvent{State: Connected})
	go c.forwardErrors()
	go c.loop(ctx)
	return c, nil
}

// emit reports a connection event; a full Reconnects() channel drops its
// oldest entry.
func (c *core) emit(e ConnectionEvent) {
	e.Time = time.Now()
	if c.cfg.onConn != nil {
		c.cfg.onConn(e)
	}
	for {
		select {
		case c.events <- e:
			return
		default:
		}
		select {
		case <-c.events:
		default:
		}
	}
}

func (c *core) reportErr(err error) {
	if err == nil {
		err = errors.New("transport closed")
	}
	select {
	case c.errs <- err:
	default:
	}
}

func (c *core) forwardErrors() {
	ch := c.t.ErrorChan()
	if ch == nil {
		return
	}
	for {
		select {
		case <-c.life.Done():
			return
		case err, ok := <-ch:
			if !ok {
				return
			}
			c.reportErr(err)
		}
	}
}

// loop reconnects after transport errors until the client ends (its
// constructor's ctx is done or Close).
func (c *core) loop(ctx context.Context) {
	defer close(c.loopDone)
	for {
		select {
		case <-ctx.Done():
			c.shutdown(context.Background())
			return
		case <-c.life.Done():
			return
		case err := <-c.errs:
			c.reconnect(err)
		}
	}
}

func (c *core) reconnect(cause error) {
	log := c.cfg.log.With("role", c.role.String(), "id", c.id)
	log.Warn("cloudsync: connection lost, reconnecting", "err", cause)
	c.mu.Lock()
	c.connected = false
	c.mu.Unlock()
	c.emit(ConnectionEvent{State: Lost, Err: cause})
	c.stopReceiver()
	delay := c.cfg.minBackoff
	for attempt := 0; ; attempt++ {
		_ = c.t.Close(c.life)
		// errors of the connection just closed are stale
		select {
		case <-c.errs:
		default:
		}
		if attempt > 0 {
			select {
			case <-c.life.Done():
				return
			case <-time.After(delay):
			}
			delay = min(2*delay, c.cfg.maxBackoff)
		}
		if c.life.Err() != nil {
			return
		}
		if err := c.t.Connect(c.life); err != nil {
			log.Warn("cloudsync: reconnect failed", "err", err, "attempt", attempt+1)
			continue
		}
		c.mu.Lock()
		c.connected = true
		subscribed := c.dispatch != nil && c.subCtx.Err() == nil
		c.mu.Unlock()
		c.emit(ConnectionEvent{State: Connected})
		if !subscribed {
			return
		}
		sctx, cancel := c.subscription()
		if err := c.t.Subscribe(sctx); err != nil {
			cancel()
			log.Warn("cloudsync: resubscribe failed", "err", err, "attempt", attempt+1)
			c.mu.Lock()
			c.connected = false
			c.mu.Unlock()
			continue
		}
		c.startReceiver(sctx, cancel)
		log.Info("cloudsync: reconnected and resubscribed")
		c.emit(ConnectionEvent{State: Resubscribed})
		c.autoResync()
		return
	}
}

func (c *core) autoResync() {
	if !c.cfg.resync || c.resync == nil {
		return
	}
	go func() {
		err := c.resync(c.life)
		if err != nil {
			c.cfg.log.Warn("cloudsync: automatic resync failed", "role", c.role.String(), "id", c.id, "err", err)
		}
		c.emit(ConnectionEvent{State: Resynced, Err: err})
		if c.cfg.repeat <= 0 {
			return
		}
		select {
		case <-c.life.Done():
			return
		case <-time.After(c.cfg.repeat):
		}
		if !c.IsConnected() {
			return // the next reconnect resyncs
		}
		if err := c.resync(c.life); err != nil {
			c.cfg.log.Warn("cloudsync: repeated automatic resync failed", "role", c.role.String(), "id", c.id, "err", err)
		}
	}()
}

func (c *core) subscribe(ctx context.Context, dispatch func(ctx context.Context, evt cloudevents.Event)) error {
	c.mu.Lock()
	if c.dispatch != nil {
		c.mu.Unlock()
		return errors.New("cloudsync: Subscribe was already called")
	}
	c.dispatch = dispatch
	c.subCtx = ctx
	c.mu.Unlock()
	sctx, cancel := c.subscription()
	if err := c.t.Subscribe(sctx); err != nil {
		cancel()
		c.mu.Lock()
		c.dispatch, c.subCtx = nil, nil
		c.mu.Unlock()
		return fmt.Errorf("cloudsync: %s %s: subscribe: %w", c.role, c.id, err)
	}
	c.startReceiver(sctx, cancel)
	c.emit(ConnectionEvent{State: Subscribed})
	c.autoResync()
	return nil
}

// subscription returns the context of one subscription: it ends with the
// Subscribe context, with the client, or when the next reconnect replaces
// it. Transports may bind a stream to it.
func (c *core) subscription() (context.Context, context.CancelFunc) {
	c.mu.Lock()
	parent := c.subCtx
	c.mu.Unlock()
	rctx, cancel := context.WithCancel(parent)
	stopOnClose := context.AfterFunc(c.life, cancel)
	return rctx, func() { stopOnClose(); cancel() }
}

// startReceiver runs Receive for the subscription rctx (cancel ends it).
func (c *core) startReceiver(rctx context.Context, cancel context.CancelFunc) {
	if c.onSubscribe != nil {
		c.onSubscribe()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	done := make(chan struct{})
	c.recvCancel, c.recvDone = cancel, done
	dispatch := c.dispatch
	go func() {
		defer close(done)
		// Receive returns nil when the transport closed (and reported why
		// on ErrorChan); an error it returns is a transport error.
		err := c.t.Receive(rctx, dispatch)
		switch {
		case rctx.Err() != nil:
		case err != nil:
			c.reportErr(err)
		default:
			// A transport that ended Receive without reporting an error
			// would leave the client deaf: if no reconnect has replaced
			// this receiver shortly, reconnect.
			time.AfterFunc(receiveEndGrace, func() {
				c.mu.Lock()
				stale := c.recvDone == done
				c.mu.Unlock()
				if stale && c.life.Err() == nil {
					c.reportErr(errors.New("cloudsync: the transport stopped receiving"))
				}
			})
		}
	}()
}

func (c *core) stopReceiver() {
	c.mu.Lock()
	cancel, done := c.recvCancel, c.recvDone
	c.recvCancel, c.recvDone = nil, nil
	c.mu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		c.cfg.log.Warn("cloudsync: the transport's Receive did not return 10s after its context ended")
	}
}

func (c *core) send(ctx context.Context, evt cloudevents.Event) error {
	c.mu.Lock()
	ok := c.connected
	c.mu.Unlock()
	if !ok {
		return ErrNotConnected
	}
	if err := c.t.Send(ctx, evt); err != nil {
		return fmt.Errorf("cloudsync: send %s: %w", evt.Type(), err)
	}
	return nil
}

func (c *core) shutdown(ctx context.Context) error {
	var err error
	c.closeOnce.Do(func() {
		c.stop()
		c.stopReceiver()
		c.mu.Lock()
		c.connected = false
		c.mu.Unlock()
		err = c.t.Close(ctx)
	})
	return err
}

// Close ends the client: the receive loop stops, the reconnect loop
// stops, the transport is closed.
func (c *core) Close(ctx context.Context) error {
	err := c.shutdown(ctx)
	<-c.loopDone
	return err
}

// Reconnects reports the client's connection events (Connected, Lost,
// Subscribed, Resubscribed, Resynced). The channel keeps the last 64; a
// reader that falls behind loses the oldest.
func (c *core) Reconnects() <-chan ConnectionEvent { return c.events }

// IsConnected reports whether the transport is connected.
func (c *core) IsConnected() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.connected
}
