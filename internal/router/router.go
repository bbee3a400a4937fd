// Package router matches every ingested event against every rule at once
// and hands it to the rules' routes. On an external cluster (or an
// embedded bus that listens) the bus writes each event to WORK and to
// EVENTS, the archive, and the router is the one consumer of WORK, shared
// by the replicas: a WORK message is acknowledged, and so removed, only
// when every route it went to has delivered it or queued it durably in
// RETRY or DLQ (docs/architecture.md, "Invariants", 2). On an embedded bus
// that listens on no port the bus writes EVENTS only, the router takes
// events from ingest in the process, and keeps a checkpoint of the
// archive below which every event is settled (local.go).
package router

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/delivery"
	"github.com/eventbridge-dev/eventbridge/internal/filter"
	"github.com/eventbridge-dev/eventbridge/internal/telemetry"
)

// ConsumerName is the durable name of the router's WORK consumer
// (bus.WorkConsumer). All replicas share it, so each event is routed by
// one of them. Before WORK existed the router consumed EVENTS under the
// same name; Start moves what that consumer had not settled into WORK
// (migrateLegacy).
const ConsumerName = bus.WorkConsumer

// Rule is a rule as the router sees it: which events, and where they go.
type Rule struct {
	Name string
	// Sources restricts the rule to events ingested by these sources
	// (resource names); empty means every source.
	Sources []string
	Filter  filter.Spec
	// Routes deliver to the rule's targets, one route per target.
	Routes []*delivery.Route
}

// Config is what a Router needs.
type Config struct {
	// Bus is where WORK is read.
	Bus *bus.Bus
	// AckWait of the WORK consumer (zero: the bus's ack_wait).
	AckWait time.Duration
	Keeper  *delivery.Keeper
	Metrics *telemetry.Metrics
	Log     *slog.Logger
	// Observe, when set, sees every event routed (schema discovery).
	Observe func(e *ce.Event)
	// OptIn are sources whose events only reach rules that name them in
	// Sources (the bridge's own lifecycle events), not catch-all rules.
	OptIn []string
	// Consume makes the router consume WORK through the durable consumer
	// on an embedded bus too, as it does on an external cluster (tests).
	Consume bool
}

// Router routes WORK messages to rules. Safe for concurrent use.
type Router struct {
	cfg Config

	mu      sync.RWMutex // held for reading while an event is dispatched
	rules   []Rule
	matched []prometheus.Counter
	matcher *filter.Matcher

	work *bus.WorkQueue // opened by Start; SetRules updates it then
	iter *bus.MsgStream
	done chan struct{}
	acks *acker
	// local is set when the router routes from ingest (local.go).
	local *local

	component.Tracker
}

// New returns a router with no rules.
func New(cfg Config) *Router {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	m, _ := filter.NewMatcher(nil)
	r := &Router{cfg: cfg, matcher: m, acks: newAcker(ackLinger), work: cfg.Bus.Work()}
	if isLocal(cfg) {
		r.local = newLocal()
	}
	// Ordered routes hold their events from now until Start knows what an
	// earlier run left unsettled (ordering.go).
	if b := cfg.Keeper.Barrier(); b != nil {
		b.Arm()
	}
	r.Set(component.New, nil)
	return r
}

// SetRules replaces the rule set atomically: once it returns, no event is
// handed to a route that is not in rules. It fails, changing nothing, if a
// filter does not compile.
func (r *Router) SetRules(ctx context.Context, rules []Rule) error {
	frs := make([]filter.Rule, len(rules))
	// A rule's series is made when it first matches: idle rules cost no
	// series (docs/operations.md), and the counters are one allocation.
	lazy := make([]telemetry.LazyCounter, len(rules))
	matched := make([]prometheus.Counter, len(rules))
	for i, rl := range rules {
		frs[i] = filter.Rule{Name: rl.Name, Spec: rl.Filter}
		lazy[i].Init(r.cfg.Metrics.Matched, rl.Name)
		matched[i] = &lazy[i]
	}
	m, err := filter.NewMatcher(frs)
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.rules, r.matched, r.matcher = slices.Clone(rules), matched, m
	r.mu.Unlock()
	if r.work.IsOpen() {
		if err := r.ensureConsumer(ctx); err != nil {
			return err
		}
	}
	return nil
}

// maxAckPending is how many WORK messages may be held at once: enough
// for every route's queue and workers to be full.
func (r *Router) maxAckPending() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	n := 1024
	for _, rl := range r.rules {
		for _, rt := range rl.Routes {
			n += rt.Capacity()
		}
	}
	return max(n, 4096)
}

// migrateLegacy moves the events that the router's consumer of EVENTS (the
// layout before WORK) had not yet settled into WORK, then deletes that
// consumer. The events are copied from the consumer's ack floor on, so an
// event is routed again rather than lost if it was acked out of order; the
// copies carry the event's key as Nats-Msg-Id, so a second run inside the
// dedup window stores nothing twice. Nothing happens when there is no such consumer.
func (r *Router) migrateLegacy(ctx context.Context) error {
	if err := r.moveLegacy(ctx); err != nil {
		return fmt.Errorf("router: legacy consumer: %w", err)
	}
	return nil
}

func (r *Router) moveLegacy(ctx context.Context) error {
	moved, found, err := r.work.MoveLegacy(ctx)
	if err != nil {
		return err
	}
	if found {
		r.cfg.Log.Info("moved the events an earlier version had not routed from EVENTS to WORK", "events", moved)
	}
	return nil
}

func (r *Router) ensureConsumer(ctx context.Context) error {
	if err := r.work.Open(ctx, bus.WorkOptions{AckWait: r.cfg.AckWait, MaxAckPending: r.maxAckPending()}); err != nil {
		return fmt.Errorf("router: %w", err)
	}
	return nil
}

// Start starts routing: from ingest on an embedded bus, from the durable
// consumer of WORK, which it creates, on an external cluster.
func (r *Router) Start(ctx context.Context) error {
	r.Set(component.Starting, nil)
	if err := r.migrateLegacy(ctx); err != nil {
		r.Set(component.Failed, err)
		return err
	}
	if r.local != nil {
		if err := r.startLocal(ctx); err != nil {
			r.Set(component.Failed, err)
			return fmt.Errorf("router: %w", err)
		}
		r.Set(component.Running, nil)
		return nil
	}
	if err := r.ensureConsumer(ctx); err != nil {
		r.Set(component.Failed, err)
		return err
	}
	if err := r.handOverCheckpoint(ctx); err != nil {
		err = fmt.Errorf("router: checkpoint: %w", err)
		r.Set(component.Failed, err)
		return err
	}
	r.done = make(chan struct{})
	if err := r.setBarrier(ctx); err != nil {
		r.Set(component.Failed, err)
		return err
	}
	it, err := r.work.Messages(512)
	if err != nil {
		r.Set(component.Failed, err)
		return fmt.Errorf("router: %w", err)
	}
	r.iter = it
	r.acks.resume()
	go r.run()
	r.Set(component.Running, nil)
	return nil
}

// Stop stops taking events from WORK. Events already handed to routes
// are settled by the routes' Stop.
func (r *Router) Stop(ctx context.Context) error {
	r.Set(component.Stopping, nil)
	if r.local != nil {
		r.stopLocal(ctx)
		r.Set(component.Terminated, nil)
		return nil
	}
	if r.iter != nil {
		r.iter.Stop()
		<-r.done
	}
	r.acks.drain()
	r.Set(component.Terminated, nil)
	return nil
}

func (r *Router) run() {
	defer close(r.done)
	var idx []int
	var routes []*delivery.Route
	for {
		msg, err := r.iter.Next()
		if err != nil {
			if errors.Is(err, bus.ErrConsumerStopped) {
				return
			}
			r.Set(component.Running, err)
			if !r.cfg.Bus.Report(err) { // an outage of the bus is logged once, by the bus
				r.cfg.Log.Warn("router consumer", "err", err)
			}
			continue
		}
		idx, routes = r.route(msg, idx[:0], routes[:0])
		r.seen(msg)
	}
}

// route dispatches one WORK message. idx and routes are scratch space.
func (r *Router) route(msg bus.Msg, idx []int, routes []*delivery.Route) ([]int, []*delivery.Route) {
	ev, err := bus.DecodeEvent(msg.Data())
	if err != nil {
		r.cfg.Log.Error("dropping an unreadable WORK message", "subject", msg.Subject(), "err", err)
		_ = msg.Term("unreadable")
		return idx, routes
	}
	r.observe(ev)
	r.mu.RLock()
	defer r.mu.RUnlock()
	idx, routes = r.matchLocked(ev, msg.Source(), idx, routes)
	order := r.acks.received()
	if len(routes) == 0 {
		r.acks.ack(msg, order)
		return idx, routes
	}
	ingested := msg.Ingested()
	p := &pending{msg: msg, order: order, acks: r.acks, keeper: r.cfg.Keeper}
	p.left.Store(int32(len(routes)))
	r.cfg.Keeper.Hold(msg)
	key, raw, done := msg.Key(), msg.Data(), p.done
	// The tasks are made together: with the pending message when there
	// is one route (the common case), in one array otherwise.
	tasks := p.one[:]
	if len(routes) > 1 {
		tasks = make([]delivery.Task, len(routes))
	}
	var seq uint64
	for i, rt := range routes {
		t := &tasks[i]
		*t = delivery.Task{Event: ev, Raw: raw, Key: key, Ingested: ingested, Done: done}
		if rt.Ordered() {
			if seq == 0 {
				seq = seqOf(msg)
			}
			t.Seq = seq
		}
		if !rt.TryEnqueue(t) {
			rt.Overflow(t)
		}
	}
	return idx, routes
}

// observe shows ev to schema discovery.
func (r *Router) observe(ev *ce.Event) {
	if r.cfg.Observe != nil {
		r.cfg.Observe(ev)
	}
}

// matchLocked appends to routes the routes of every rule that ev, ingested
// by source, matches. r.mu is held for reading.
func (r *Router) matchLocked(ev *ce.Event, source string, idx []int, routes []*delivery.Route) ([]int, []*delivery.Route) {
	in := filter.NewInput(ev)
	if telemetry.TracingOn() {
		_, span := telemetry.Tracer().Start(telemetry.EventContext(context.Background(), ev), "match")
		defer span.End()
		if span.IsRecording() {
			span.SetAttributes(telemetry.EventAttributes(ev)...)
		}
	}
	idx = r.matcher.Match(in, idx)
	in.Release()
	for _, i := range idx {
		rl := &r.rules[i]
		if len(rl.Sources) > 0 && !slices.Contains(rl.Sources, source) {
			continue
		}
		if len(rl.Sources) == 0 && slices.Contains(r.cfg.OptIn, source) {
			continue
		}
		r.matched[i].Inc()
		routes = append(routes, rl.Routes...)
	}
	return idx, routes
}

// pending is a WORK message waiting for its routes to settle.
type pending struct {
	msg    bus.Msg
	order  uint64
	acks   *acker
	keeper *delivery.Keeper
	left   atomic.Int32
	failed atomic.Bool
	one    [1]delivery.Task // the task of a message with one route
}

func (p *pending) done(err error) {
	if err != nil {
		p.failed.Store(true)
	}
	if p.left.Add(-1) != 0 {
		return
	}
	p.keeper.Release(p.msg)
	if p.failed.Load() {
		// Some route could not settle it: hand it out again, a little later
		// so that a broken bus does not spin.
		_ = p.msg.NakWithDelay(time.Second)
		return
	}
	p.acks.ack(p.msg, p.order)
}

// ackLinger is how long the acker holds the newest settled message back
// when nothing else settles.
const ackLinger = 200 * time.Millisecond

// acker acknowledges settled WORK messages, but holds back the one that
// arrived last until a later one settles (or ackLinger passes). WORK
// deletes what is acknowledged, and when an acknowledgement empties the
// stream's newest file block, the store replaces that block with a new
// file and a tombstone, inside the acknowledgement and under the stream's
// lock. A router that keeps up empties WORK after nearly every event, so
// without the hold that happens hundreds of times a second: syscalls that
// stall ingest. Holding the newest message keeps the newest block in use
// while events flow; it costs at most one extra redelivery after a crash.
type acker struct {
	linger time.Duration

	next atomic.Uint64 // arrival order of the last message received

	mu       sync.Mutex
	held     bus.Msg
	heldAt   uint64 // arrival order of held
	timer    *time.Timer
	draining bool
}

func newAcker(linger time.Duration) *acker {
	a := &acker{linger: linger}
	a.timer = time.AfterFunc(time.Hour, a.release)
	a.timer.Stop()
	return a
}

// received numbers a message as it arrives.
func (a *acker) received() uint64 { return a.next.Add(1) }

// ack acknowledges m (which arrived as number order) now, or holds it
// back if it arrived after every message settled so far.
func (a *acker) ack(m bus.Msg, order uint64) {
	a.mu.Lock()
	if a.draining || order < a.heldAt {
		a.mu.Unlock()
		_ = m.Ack()
		return
	}
	prev := a.held
	a.held, a.heldAt = m, order
	a.timer.Reset(a.linger)
	a.mu.Unlock()
	if !prev.IsZero() {
		_ = prev.Ack()
	}
}

// release acknowledges the held message.
func (a *acker) release() {
	a.mu.Lock()
	m := a.held
	a.held = bus.Msg{}
	a.mu.Unlock()
	if !m.IsZero() {
		_ = m.Ack()
	}
}

// resume holds messages back again after drain.
func (a *acker) resume() {
	a.mu.Lock()
	a.draining = false
	a.mu.Unlock()
}

// drain acknowledges the held message and every later one at once.
func (a *acker) drain() {
	a.mu.Lock()
	a.draining = true
	a.timer.Stop()
	a.mu.Unlock()
	a.release()
}

var _ component.Component = (*Router)(nil)
