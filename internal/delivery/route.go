package delivery

import (
	"context"

	"errors"
	"fmt"
	ce "github.com/cloudevents/sdk-go/v2/event"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/eventkey"
	"github.com/eventbridge-dev/eventbridge/internal/telemetry"
	"github.com/eventbridge-dev/eventbridge/internal/transform"
)

// RouteConfig is what a Route needs.
type RouteConfig struct {
	Rule, Target string
	Policy       Policy // with Defaults applied
	Transform    transform.Transform
	Sender       connector.Target
	// Bus holds the route's RETRY queue and takes its RETRY and DLQ
	// writes: a *bus.Bus.
	Bus     Bus
	Keeper  *Keeper
	Metrics *telemetry.Metrics
	Log     *slog.Logger
	// AckWait of the RETRY consumer (zero: the bus's ack_wait).
	AckWait time.Duration
	// OnDeadLetter, when set, is told of every event written to the DLQ.
	OnDeadLetter func(rule, target, reason string, e *ce.Event, attempts int, cause error)
	// OnSend, when set, is told of every delivery attempt: the error Send
	// returned (nil: delivered). It must not block.
	OnSend func(rule, target string, err error)
	// DeadLetterTTL, when positive, is how long the route's dead letters
	// are kept (the DLQ stream's max age applies to the others).
	DeadLetterTTL time.Duration
	// Guard is the target's rate limit and circuit breaker (nil: none).
	Guard *Guard
	// HasRetries says the route's RETRY subject may hold messages (from
	// before a restart, or written by the route this one replaces): Start
	// then opens the RETRY consumer at once. Otherwise the consumer is
	// created when the route first writes to RETRY, or when OpenRetries
	// is called.
	HasRetries bool
	// Ordering, when set, is the key by which the route delivers events in
	// order, one at a time per key (ordering.go).
	Ordering *eventkey.Key
	// Timing is the rule's dedup and delay (timing.go).
	Timing Timing
}

// Route delivers the events of one rule to one target: a bounded queue,
// Policy.Concurrency workers, and a consumer of the route's RETRY subject.
// A slow or failing target fills only its own queue; what overflows is
// written to RETRY and waits on disk.
//
// An idle route costs almost nothing: its queue, workers and metric series
// are made when the first event comes (activate), and its RETRY consumer
// when it first writes to RETRY or is told its subject holds messages.
type Route struct {
	cfg RouteConfig

	amu    sync.Mutex  // guards activation
	active atomic.Bool // queue, workers and metrics exist
	queue  chan *Task  // set by activate

	// sendCtx bounds Send calls; it is cancelled when Stop runs out of time.
	sendCtx    context.Context
	cancelSend context.CancelFunc
	stopping   chan struct{}
	stopOnce   sync.Once
	workers    sync.WaitGroup
	paused     atomic.Bool
	ord        *orderer // nil: the route does not order

	rmu         sync.Mutex      // guards the RETRY consumption below
	retryQ      *bus.RetryQueue // opened by Start
	retryCancel context.CancelFunc
	retryDone   chan struct{}
	retryOpen   atomic.Bool    // retryQ is set
	opening     atomic.Bool    // an openRetries is under way
	openers     sync.WaitGroup // openRetries goroutines
	started     atomic.Bool    // Start succeeded
	// roomWait says the RETRY consumer waits for room in the queue; a
	// worker that takes a task then wakes it through room.
	roomWait atomic.Bool
	room     atomic.Pointer[chan struct{}]

	delivered, retried, dead, overflow prometheus.Counter
	attempt, latency                   prometheus.Observer

	component.Tracker
}

// NewRoute builds a route; Start runs it.
func NewRoute(cfg RouteConfig) *Route {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	r := &Route{cfg: cfg, stopping: make(chan struct{})}
	if cfg.Ordering != nil {
		r.ord = newOrderer(r, cfg.Ordering, cfg.Policy.QueueSize, cfg.Keeper.Barrier())
	}
	r.Set(component.New, nil)
	return r
}

// activate makes the route's queue, workers and metric series, once,
// when the first event comes. Before Start it only marks the route
// active: Start then makes them.
func (r *Route) activate() {
	if r.active.Load() {
		return
	}
	r.amu.Lock()
	defer r.amu.Unlock()
	if r.active.Load() {
		return
	}
	cfg := r.cfg
	m := cfg.Metrics
	r.delivered = m.Deliveries.WithLabelValues(cfg.Rule, cfg.Target, telemetry.OutcomeDelivered)
	r.retried = m.Deliveries.WithLabelValues(cfg.Rule, cfg.Target, telemetry.OutcomeRetry)
	r.dead = m.Deliveries.WithLabelValues(cfg.Rule, cfg.Target, telemetry.OutcomeDeadLettered)
	r.overflow = m.Deliveries.WithLabelValues(cfg.Rule, cfg.Target, telemetry.OutcomeOverflow)
	r.attempt = m.Attempt.WithLabelValues(cfg.Rule, cfg.Target)
	r.latency = m.Latency.WithLabelValues(cfg.Rule, cfg.Target)
	r.sendCtx, r.cancelSend = context.WithCancel(context.Background())
	r.queue = make(chan *Task, cfg.Policy.QueueSize)
	select {
	case <-r.stopping: // too late for workers
	default:
		for i := 0; i < cfg.Policy.Concurrency; i++ {
			r.workers.Add(1)
			go r.work()
		}
	}
	r.active.Store(true)
}

// Active reports whether the route has had events (its queue, workers
// and metric series exist).
func (r *Route) Active() bool { return r.active.Load() }

// RetriesOpen reports whether the route's RETRY consumer is open.
func (r *Route) RetriesOpen() bool { return r.retryOpen.Load() }

// Name returns "rule/target".
func (r *Route) Name() string { return r.cfg.Rule + "/" + r.cfg.Target }

// RetryConsumerName is the durable name of a route's RETRY consumer.
func RetryConsumerName(rule, target string) string { return bus.RetryConsumer(rule, target) }

// Start starts the route. The RETRY consumer is opened now only when
// RouteConfig.HasRetries says there may be retries waiting; the queue and
// workers come with the first event.
func (r *Route) Start(ctx context.Context) error {
	r.Set(component.Starting, nil)
	if err := r.loadOrder(ctx); err != nil {
		r.Set(component.Failed, err)
		return err
	}
	if r.cfg.HasRetries {
		if err := r.openRetryQueue(ctx); err != nil {
			r.Set(component.Failed, err)
			return err
		}
	}
	r.started.Store(true)
	r.Set(component.Running, nil)
	return nil
}

// openRetryQueue creates (or updates) the route's RETRY consumer and, if
// the route is not paused, starts taking due messages from it.
func (r *Route) openRetryQueue(ctx context.Context) error {
	if !r.retryOpen.Load() {
		q := r.cfg.Bus.RetryQueue(r.cfg.Rule, r.cfg.Target)
		if err := q.Open(ctx, r.cfg.AckWait); err != nil {
			return fmt.Errorf("route %s: %w", r.Name(), err)
		}
		r.rmu.Lock()
		if r.retryQ == nil {
			r.retryQ = q
		}
		r.rmu.Unlock()
		r.retryOpen.Store(true)
	}
	if !r.paused.Load() {
		return r.startRetries()
	}
	return nil
}

// OpenRetries makes sure the route reads its RETRY subject, without
// waiting: the consumer is opened in the background, once. Call it when
// messages may have been written to the subject by someone else (a
// redrive, the route this one replaced).
func (r *Route) OpenRetries() {
	if r.retryOpen.Load() || !r.opening.CompareAndSwap(false, true) {
		return
	}
	r.amu.Lock()
	select {
	case <-r.stopping:
		r.amu.Unlock()
		r.opening.Store(false)
		return
	default:
	}
	r.openers.Add(1)
	r.amu.Unlock()
	go func() {
		defer r.openers.Done()
		defer r.opening.Store(false)
		ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
		defer cancel()
		if err := r.openRetryQueue(ctx); err != nil && !r.busReport(err) {
			r.cfg.Log.Warn("cannot open the RETRY consumer; will try again at the next write", "route", r.Name(), "err", err)
		}
	}()
}

// startRetries starts taking due messages from the route's RETRY subject.
func (r *Route) startRetries() error {
	r.rmu.Lock()
	defer r.rmu.Unlock()
	if r.retryCancel != nil || r.retryQ == nil {
		return nil
	}
	select {
	case <-r.stopping:
		return nil
	default:
	}
	r.activate()
	ctx, cancel := context.WithCancel(context.Background())
	r.retryCancel, r.retryDone = cancel, make(chan struct{})
	go r.consumeRetries(ctx, r.retryDone)
	return nil
}

// stopRetries stops taking messages from RETRY and waits for the loop.
func (r *Route) stopRetries() {
	r.rmu.Lock()
	defer r.rmu.Unlock()
	if r.retryCancel == nil {
		return
	}
	r.retryCancel()
	<-r.retryDone
	r.retryCancel, r.retryDone = nil, nil
}

// TryEnqueue queues t for delivery without blocking. It returns false when
// the queue is full, the route is paused or stopping; the caller then
// writes t to RETRY with Overflow.
func (r *Route) TryEnqueue(t *Task) bool {
	if r.paused.Load() {
		return false
	}
	select {
	case <-r.stopping:
		return false
	default:
	}
	r.activate()
	if r.ord != nil {
		if ok, ordered := r.ord.add(t); ordered {
			return ok
		}
	}
	select {
	case r.queue <- t:
		return true
	default:
		return false
	}
}

// Overflow writes t to the route's RETRY subject without counting an
// attempt, due at once, and settles it.
func (r *Route) Overflow(t *Task) {
	r.activate()
	r.overflow.Inc()
	if r.ord != nil {
		r.ord.away(t)
	}
	t.Outcome = telemetry.OutcomeOverflow
	t.Done(r.writeRetry(t, t.Attempts, time.Now(), 0, nil, false))
}

// Submit queues t, waiting for room; a paused route writes it to RETRY.
// It fails when ctx is done or the route stops; t is not settled then.
func (r *Route) Submit(ctx context.Context, t *Task) error {
	if r.paused.Load() {
		r.Overflow(t)
		return nil
	}
	r.activate()
	select {
	case r.queue <- t:
		return nil
	case <-r.stopping:
		return ErrStopped
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Pause makes the route keep its events on disk (in RETRY) instead of
// delivering them: new ones are written there, queued ones too, and the
// RETRY subject is no longer read. Deliveries in flight finish.
func (r *Route) Pause() {
	if r.paused.Swap(true) {
		return
	}
	r.stopRetries()
	r.SetDetail("paused", true)
}

// Resume delivers again, starting with what waited on disk.
func (r *Route) Resume() {
	if !r.paused.Swap(false) {
		return
	}
	r.SetDetail("paused", false)
	select {
	case <-r.stopping:
		return
	default:
	}
	if err := r.startRetries(); err != nil { // when the consumer is open
		r.Set(component.Failed, err)
	}
}

// QueueLen returns the number of tasks waiting in memory.
func (r *Route) QueueLen() int {
	if !r.active.Load() {
		return 0
	}
	return len(r.queue)
}

// Stop stops taking tasks and lets deliveries in flight finish until ctx
// is done (then cancels them). Tasks still queued are settled with
// ErrStopped, which gives their messages back to the bus for the next
// start (docs/architecture.md, "Shutdown": finish in-flight work, give
// back the rest).
func (r *Route) Stop(ctx context.Context) error {
	r.stopOnce.Do(func() {
		r.Set(component.Stopping, nil)
		close(r.stopping)
		r.amu.Lock() // no OpenRetries starts from now on; workers start no more
		wasActive := r.active.Load()
		r.amu.Unlock()
		r.openers.Wait()
		r.stopRetries()
		if !wasActive { // no queue, no workers
			r.Set(component.Terminated, nil)
			return
		}
		finished := make(chan struct{})
		go func() { r.workers.Wait(); close(finished) }()
		select {
		case <-finished:
		case <-ctx.Done():
			r.cancelSend()
			<-finished
		}
		r.cancelSend()
		if r.ord != nil {
			r.ord.stop()
		}
		// Whatever is still queued goes back to the bus.
		for {
			select {
			case t := <-r.queue:
				t.Done(ErrStopped)
				continue
			default:
			}
			break
		}
		r.Set(component.Terminated, nil)
	})
	return nil
}

func (r *Route) work() {
	defer r.workers.Done()
	for {
		select {
		case <-r.stopping:
			return
		default:
		}
		select {
		case t := <-r.queue:
			if r.roomWait.Load() && cap(r.queue)-len(r.queue) >= r.retryRoomMin() {
				r.wakeRetries()
			}
			if r.paused.Load() {
				r.Overflow(t)
				continue
			}
			r.process(t)
		case <-r.stopping:
			return
		}
	}
}

func (r *Route) process(t *Task) {
	if t.FirstTry.IsZero() && !r.beforeFirstAttempt(t) {
		return
	}
	now := time.Now()
	if t.FirstTry.IsZero() {
		t.FirstTry = now
	}
	ev := t.Event
	// One span per attempt, in the trace the event started (its
	// distributed-tracing extension).
	ctx := telemetry.EventContext(r.sendCtx, ev)
	span := trace.SpanFromContext(ctx) // records nothing
	if telemetry.TracingOn() {
		ctx, span = telemetry.Tracer().Start(ctx, "deliver "+r.Name(), trace.WithSpanKind(trace.SpanKindClient))
	}
	defer span.End()
	if span.IsRecording() {
		span.SetAttributes(telemetry.EventAttributes(ev)...)
		span.SetAttributes(attribute.String("eventbridge.rule", r.cfg.Rule), attribute.String("eventbridge.target", r.cfg.Target),
			attribute.Int("eventbridge.attempt", t.Attempts+1))
	}
	if r.cfg.Transform != nil {
		tctx, tspan := ctx, span
		if telemetry.TracingOn() {
			tctx, tspan = telemetry.Tracer().Start(ctx, "transform "+r.cfg.Rule)
		}
		tctx = transform.WithIngested(transform.WithRule(tctx, r.cfg.Rule), t.Ingested)
		out, err := r.cfg.Transform.Apply(tctx, ev)
		if err != nil {
			tspan.RecordError(err)
			tspan.SetStatus(codes.Error, "transform failed")
		}
		tspan.End()
		if err != nil {
			if r.sendCtx.Err() != nil {
				t.Done(ErrStopped)
				return
			}
			r.cfg.Metrics.TransformErrors.WithLabelValues(r.cfg.Rule).Inc()
			span.SetStatus(codes.Error, "transform failed")
			r.deadLetter(t, ReasonTransform, t.Attempts+1, 0, err)
			return
		}
		ev = out
	}
	done, ok := r.admit(ctx, t)
	if !ok {
		return
	}
	err := r.cfg.Sender.Send(ctx, ev)
	done(ctx, err)
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	r.attempt.Observe(time.Since(now).Seconds())
	if r.cfg.OnSend != nil {
		r.cfg.OnSend(r.cfg.Rule, r.cfg.Target, err)
	}
	if err == nil {
		r.delivered.Inc()
		if !t.Ingested.IsZero() {
			r.latency.Observe(time.Since(t.Ingested).Seconds())
		}
		t.Outcome = telemetry.OutcomeDelivered
		t.Done(nil)
		return
	}
	if r.sendCtx.Err() != nil {
		t.Done(ErrStopped)
		return
	}
	attempts := t.Attempts + 1
	status := connector.StatusCode(err)
	switch {
	case connector.IsPermanent(err):
		r.deadLetter(t, ReasonPermanent, attempts, status, err)
	case attempts >= r.cfg.Policy.MaxAttempts:
		r.deadLetter(t, ReasonExhausted, attempts, status, err)
	case now.Sub(t.FirstTry) >= r.cfg.Policy.MaxAge.D():
		r.deadLetter(t, ReasonExpired, attempts, status, err)
	default:
		delay := r.cfg.Policy.Backoff.Delay(attempts)
		var ra *connector.RetryAfterError
		if errors.As(err, &ra) && ra.After > 0 {
			delay = ra.After
		}
		r.retried.Inc()
		t.Outcome = telemetry.OutcomeRetry
		r.cfg.Log.Debug("delivery failed, will retry", "rule", r.cfg.Rule, "target", r.cfg.Target, "attempts", attempts, "delay", delay, "err", err)
		t.Done(r.writeRetry(t, attempts, now.Add(delay), status, err, true))
	}
}

// Dead-letter reasons, in the Eb-Reason header and the DLQ API.
const (
	ReasonPermanent = "permanent" // the target refused the event (e.g. HTTP 400)
	ReasonExhausted = "exhausted" // max_attempts reached
	ReasonExpired   = "expired"   // max_age passed
	ReasonTransform = "transform" // the transform failed on this event
)

func (r *Route) deadLetter(t *Task, reason string, attempts, status int, cause error) {
	d := &bus.DeadLetter{Delivery: r.record(t, attempts, status, cause), Reason: reason, TTL: r.cfg.DeadLetterTTL}
	d.MsgID = t.Key + ".d." + r.cfg.Rule + "." + r.cfg.Target
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	err := r.write("DLQ", r.cfg.Bus.PutDeadLetter(ctx, d))
	cancel()
	if err == nil {
		r.dead.Inc()
		t.Outcome = telemetry.OutcomeDeadLettered
		if r.cfg.OnDeadLetter != nil {
			r.cfg.OnDeadLetter(r.cfg.Rule, r.cfg.Target, reason, t.Event, attempts, cause)
		}
		r.cfg.Log.Warn("delivery dead-lettered", "rule", r.cfg.Rule, "target", r.cfg.Target, "reason", reason, "attempts", attempts, "status", status, "err", cause)
	}
	t.Done(err)
}

// writeRetry queues t in RETRY, due at due. A write after a failed attempt
// carries a message id made of the event and the attempt count, so that
// repeating it (after a crash) stores it once. An overflow or pause write
// (dedup false) carries none: it may repeat the id of the very RETRY
// message being moved, which must not be mistaken for a duplicate.
func (r *Route) writeRetry(t *Task, attempts int, due time.Time, status int, cause error, dedup bool) error {
	rec := &bus.RetryRecord{Delivery: r.record(t, attempts, status, cause), NotBefore: due}
	if t.orderKey != "" {
		rec.Order = bus.OrderMark{Key: t.orderKey, Seq: t.Seq}
	}
	if dedup && t.orderKey == "" { // ordered: see orderer
		rec.MsgID = t.Key + ".r" + strconv.Itoa(attempts) + "." + r.cfg.Rule + "." + r.cfg.Target
	}
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	err := r.write("RETRY", r.cfg.Bus.PutRetry(ctx, rec))
	if err == nil && !r.retryOpen.Load() && r.started.Load() {
		r.OpenRetries()
	}
	return err
}

func (r *Route) record(t *Task, attempts, status int, cause error) bus.Delivery {
	d := bus.Delivery{
		Rule: r.cfg.Rule, Target: r.cfg.Target, Key: t.Key, Attempts: attempts,
		FirstTry: t.FirstTry, Ingested: t.Ingested, LastStatus: status, Event: t.Raw,
	}
	if cause != nil {
		d.LastError = cause.Error()
	}
	return d
}

// writeTimeout bounds one RETRY or DLQ write.
const writeTimeout = 10 * time.Second

// write logs a failed RETRY or DLQ write and names the route in its error.
func (r *Route) write(stream string, err error) error {
	if err != nil {
		if !r.busReport(err) {
			r.cfg.Log.Error("cannot write to the bus; the event will be handed out again", "route", r.Name(), "stream", stream, "err", err)
		}
		return fmt.Errorf("route %s: %w", r.Name(), err)
	}
	return nil
}

// retryFetchWait bounds one RETRY fetch; retryPoll is how often a full
// queue is looked at again by a route that orders events (its room is the
// orderer's), retryRoomPoll by the others, which a worker wakes when it
// takes a task (the poll is a fallback).
const (
	retryFetchWait = 2 * time.Second
	retryPoll      = 5 * time.Millisecond
	retryRoomPoll  = 100 * time.Millisecond
)

// retryRoomMin is the room in the queue for which a waiting RETRY consumer
// is woken: a fetch's worth (a quarter of the queue at most), so that a
// full queue is refilled in batches, not one fetch per task taken.
func (r *Route) retryRoomMin() int {
	return max(1, min(max(8, r.cfg.Policy.Concurrency), cap(r.queue)/4))
}

// wakeRetries tells the RETRY consumer waiting for room that there is some.
func (r *Route) wakeRetries() {
	if ch := r.room.Load(); ch != nil {
		select {
		case *ch <- struct{}{}:
		default:
		}
	}
}

// consumeRetries feeds due RETRY messages into the queue. It asks the bus
// only for as many messages as the queue has room for, and only when it has
// room: a message taken from RETRY is held (kept alive) at once and queued
// soon after, never left waiting, unprotected, in a client buffer while the
// queue is full (it would be handed out again after AckWait and delivered
// twice). Messages not yet due are handed back with a delay.
func (r *Route) consumeRetries(ctx context.Context, done chan struct{}) {
	defer close(done)
	limit := max(8, r.cfg.Policy.Concurrency)
	every := retryRoomPoll
	if r.ord != nil {
		every = retryPoll
	}
	poll := time.NewTicker(every)
	defer poll.Stop()
	room := make(chan struct{}, 1)
	r.room.Store(&room)
	for ctx.Err() == nil {
		free := cap(r.queue) - len(r.queue)
		if r.ord != nil {
			free = r.ord.room()
		}
		if free <= 0 {
			if r.ord == nil {
				// Wait for the workers to make a fetch's worth of room (or
				// the poll): a full queue is not looked at 200 times a
				// second per route, nor refilled one task at a time.
				r.roomWait.Store(true)
				if cap(r.queue)-len(r.queue) < r.retryRoomMin() {
					select {
					case <-room:
					case <-poll.C:
					case <-ctx.Done():
					}
				}
				r.roomWait.Store(false)
				continue
			}
			select {
			case <-poll.C:
			case <-ctx.Done():
			}
			continue
		}
		fctx, cancel := context.WithTimeout(ctx, retryFetchWait)
		batch, err := r.retryQ.Fetch(fctx, min(free, limit))
		if err != nil {
			cancel()
			if ctx.Err() != nil {
				return
			}
			if !r.busReport(err) {
				r.cfg.Log.Warn("retry consumer", "route", r.Name(), "err", err)
			}
			select {
			case <-time.After(time.Second):
			case <-ctx.Done():
			}
			continue
		}
		// Each message is held (kept alive) the moment it arrives and handed
		// to a feeder that queues it: the batch is at most the room there
		// was, so the feeder waits only while the router takes some of that
		// room, and no message waits unheld in the client's buffer meanwhile.
		// Waiting for the whole batch before queueing would delay a lone due
		// retry until the fetch expires.
		n := min(free, limit)
		feed, fed := make(chan *Task, n), make(chan bool)
		go func() {
			stopped := false
			for t := range feed {
				if stopped {
					t.Done(ErrStopped)
					continue
				}
				select {
				case r.queue <- t:
				case <-r.stopping:
					stopped = true
					cancel()
					t.Done(ErrStopped)
				}
			}
			fed <- stopped
		}()
		for msg := range batch.All() {
			if t := r.retryTask(msg); t != nil && (r.ord == nil || !r.ord.addRetry(t, msg)) {
				feed <- t
			}
		}
		close(feed)
		stopped := <-fed
		cancel()
		if stopped {
			return
		}
		if err := batch.Err(); err != nil && ctx.Err() == nil && !r.busReport(err) {
			r.cfg.Log.Warn("retry consumer", "route", r.Name(), "err", err)
		}
	}
}

// retryTask turns a RETRY message into a held task, or settles it and
// returns nil (not yet due, or unreadable).
func (r *Route) retryTask(msg bus.Msg) *Task {
	rec := msg.Retry()
	if !rec.NotBefore.IsZero() {
		if d := time.Until(rec.NotBefore); d > 5*time.Millisecond {
			_ = msg.NakWithDelay(d)
			return nil
		}
	}
	t, err := r.taskFromRetry(msg, rec)
	if err != nil {
		r.cfg.Log.Error("dropping unreadable RETRY message", "route", r.Name(), "err", err)
		_ = msg.Term("unreadable")
		return nil
	}
	r.cfg.Keeper.Hold(msg)
	return t
}

func (r *Route) taskFromRetry(msg bus.Msg, rec *bus.RetryRecord) (*Task, error) {
	ev, err := bus.DecodeEvent(rec.Event)
	if err != nil {
		return nil, err
	}
	keeper := r.cfg.Keeper
	return &Task{
		Event: ev, Raw: rec.Event, Key: rec.Key, Attempts: rec.Attempts, FirstTry: rec.FirstTry, Ingested: rec.Ingested,
		Seq: rec.Order.Seq, orderKey: rec.Order.Key,
		Done: func(err error) {
			keeper.Release(msg)
			if err != nil {
				_ = msg.Nak()
				return
			}
			_ = msg.Ack()
		},
	}, nil
}

var _ component.Component = (*Route)(nil)

// Capacity is the number of tasks the route can hold in memory.
func (r *Route) Capacity() int {
	n := r.cfg.Policy.QueueSize + r.cfg.Policy.Concurrency
	if r.ord != nil { // and the events waiting behind held keys
		n += r.ord.limit
	}
	return n
}

// Key returns the route's rule and target names.
func (r *Route) Key() (rule, target string) { return r.cfg.Rule, r.cfg.Target }

// Bus is what a route needs of the bus; *bus.Bus has it. Tests may wrap
// one to make writes fail.
type Bus interface {
	// RetryQueue is the RETRY queue of the route (rule, target).
	RetryQueue(rule, target string) *bus.RetryQueue
	// PutRetry and PutDeadLetter write a route's RETRY and DLQ records.
	PutRetry(ctx context.Context, r *bus.RetryRecord) error
	PutDeadLetter(ctx context.Context, d *bus.DeadLetter) error
	// RetryOrderMarks reads the ordering marks of the route's RETRY
	// records (routes that order events per key).
	RetryOrderMarks(ctx context.Context, rule, target string) ([]bus.OrderMark, error)
}

var _ Bus = (*bus.Bus)(nil)

// busReporter is the optional ability of a Bus to take the errors that
// mean it is unavailable, and log the outage once (bus.Bus.Report).
type busReporter interface{ Report(error) bool }

// busReport hands err to the bus when it can take it, and reports whether
// the bus logs it (the route then does not).
func (r *Route) busReport(err error) bool {
	rep, ok := r.cfg.Bus.(busReporter)
	return ok && rep.Report(err)
}

var _ busReporter = (*bus.Bus)(nil)
