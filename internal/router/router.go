// Package router is the one consumer of the EVENTS stream: it matches each
// event against every rule at once and hands it to the rules' routes. An
// EVENTS message is acknowledged only when every route it went to has
// delivered it or queued it durably in RETRY or DLQ (DESIGN §2, invariant 2).
package router

import (
	"context"

	"errors"
	"fmt"
	ce "github.com/cloudevents/sdk-go/v2/event"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/delivery"
	"github.com/eventbridge-dev/eventbridge/internal/filter"
	"github.com/eventbridge-dev/eventbridge/internal/telemetry"
)

// ConsumerName is the durable name of the router's EVENTS consumer. All
// replicas share it, so each event is routed by one of them.
const ConsumerName = "router"

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
	JS      jetstream.JetStream
	AckWait time.Duration
	Keeper  *delivery.Keeper
	Metrics *telemetry.Metrics
	Log     *slog.Logger
	// Observe, when set, sees every event routed (schema discovery).
	Observe func(e *ce.Event)
	// OptIn are sources whose events only reach rules that name them in
	// Sources (the bridge's own lifecycle events), not catch-all rules.
	OptIn []string
}

// Router routes EVENTS to rules. Safe for concurrent use.
type Router struct {
	cfg Config

	mu      sync.RWMutex // held for reading while an event is dispatched
	rules   []Rule
	matched []prometheus.Counter
	matcher *filter.Matcher

	cons jetstream.Consumer
	iter jetstream.MessagesContext
	done chan struct{}

	component.Tracker
}

// New returns a router with no rules.
func New(cfg Config) *Router {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	m, _ := filter.NewMatcher(nil)
	r := &Router{cfg: cfg, matcher: m}
	r.Set(component.New, nil)
	return r
}

// SetRules replaces the rule set atomically: once it returns, no event is
// handed to a route that is not in rules. It fails, changing nothing, if a
// filter does not compile.
func (r *Router) SetRules(ctx context.Context, rules []Rule) error {
	frs := make([]filter.Rule, len(rules))
	matched := make([]prometheus.Counter, len(rules))
	for i, rl := range rules {
		frs[i] = filter.Rule{Name: rl.Name, Spec: rl.Filter}
		matched[i] = r.cfg.Metrics.Matched.WithLabelValues(rl.Name)
	}
	m, err := filter.NewMatcher(frs)
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.rules, r.matched, r.matcher = slices.Clone(rules), matched, m
	r.mu.Unlock()
	if r.cons != nil {
		if err := r.ensureConsumer(ctx); err != nil {
			return err
		}
	}
	return nil
}

// maxAckPending is how many EVENTS messages may be held at once: enough
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

func (r *Router) ensureConsumer(ctx context.Context) error {
	cons, err := r.cfg.JS.CreateOrUpdateConsumer(ctx, bus.StreamEvents, jetstream.ConsumerConfig{
		Durable:       ConsumerName,
		Description:   "matches every event against the rules",
		DeliverPolicy: jetstream.DeliverNewPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       r.cfg.AckWait,
		MaxAckPending: r.maxAckPending(),
		MaxDeliver:    -1,
	})
	if err != nil {
		return fmt.Errorf("router: consumer: %w", err)
	}
	r.cons = cons
	return nil
}

// Start creates the durable consumer and starts routing.
func (r *Router) Start(ctx context.Context) error {
	r.Set(component.Starting, nil)
	if err := r.ensureConsumer(ctx); err != nil {
		r.Set(component.Failed, err)
		return err
	}
	it, err := r.cons.Messages(jetstream.PullMaxMessages(512))
	if err != nil {
		r.Set(component.Failed, err)
		return fmt.Errorf("router: %w", err)
	}
	r.iter = it
	r.done = make(chan struct{})
	go r.run()
	r.Set(component.Running, nil)
	return nil
}

// Stop stops taking events from EVENTS. Events already handed to routes
// are settled by the routes' Stop.
func (r *Router) Stop(context.Context) error {
	r.Set(component.Stopping, nil)
	if r.iter != nil {
		r.iter.Stop()
		<-r.done
	}
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
			if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				return
			}
			r.Set(component.Running, err)
			r.cfg.Log.Warn("router consumer", "err", err)
			continue
		}
		idx, routes = r.route(msg, idx[:0], routes[:0])
	}
}

// route dispatches one EVENTS message. idx and routes are scratch space.
func (r *Router) route(msg jetstream.Msg, idx []int, routes []*delivery.Route) ([]int, []*delivery.Route) {
	ev, err := bus.DecodeEvent(msg.Data())
	if err != nil {
		r.cfg.Log.Error("dropping an unreadable EVENTS message", "subject", msg.Subject(), "err", err)
		_ = msg.TermWithReason("unreadable")
		return idx, routes
	}
	h := msg.Headers()
	source := h.Get(bus.HdrSource)
	if r.cfg.Observe != nil {
		r.cfg.Observe(ev)
	}
	in := filter.NewInput(ev)
	_, span := telemetry.Tracer().Start(telemetry.EventContext(context.Background(), ev), "match")
	defer span.End()
	if span.IsRecording() {
		span.SetAttributes(telemetry.EventAttributes(ev)...)
	}

	r.mu.RLock()
	defer r.mu.RUnlock()
	idx = r.matcher.Match(in, idx)
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
	if len(routes) == 0 {
		_ = msg.Ack()
		return idx, routes
	}
	ingested, _ := time.Parse(time.RFC3339Nano, h.Get(bus.HdrIngested))
	p := &pending{msg: msg, keeper: r.cfg.Keeper}
	p.left.Store(int32(len(routes)))
	r.cfg.Keeper.Hold(msg)
	key := h.Get(jetstream.MsgIDHeader)
	for _, rt := range routes {
		t := &delivery.Task{Event: ev, Raw: msg.Data(), Key: key, Ingested: ingested, Done: p.done}
		if !rt.TryEnqueue(t) {
			rt.Overflow(t)
		}
	}
	return idx, routes
}

// pending is an EVENTS message waiting for its routes to settle.
type pending struct {
	msg    jetstream.Msg
	keeper *delivery.Keeper
	left   atomic.Int32
	failed atomic.Bool
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
	_ = p.msg.Ack()
}

var _ component.Component = (*Router)(nil)
