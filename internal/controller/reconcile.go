package controller

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/maphash"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/delivery"
	"github.com/eventbridge-dev/eventbridge/internal/eventkey"
	"github.com/eventbridge-dev/eventbridge/internal/filter"
	"github.com/eventbridge-dev/eventbridge/internal/oran"
	"github.com/eventbridge-dev/eventbridge/internal/resource"
	"github.com/eventbridge-dev/eventbridge/internal/router"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
	"github.com/eventbridge-dev/eventbridge/internal/subscription"
	"github.com/eventbridge-dev/eventbridge/internal/transform"
	"github.com/eventbridge-dev/eventbridge/pkg/connector/batch"
)

// Reconcile makes the running components match the store: targets first,
// then rules (the router switches to the new rule set at once), then
// sources; what is no longer wanted stops afterwards, in reverse.
func (c *Controller) Reconcile(ctx context.Context) error {
	// Every change up to last is in the listing below.
	last, lastErr := c.cfg.Store.LastRevision(ctx)
	objs, err := c.cfg.Store.List(ctx, "")
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	byKind := map[resource.Kind][]*resource.Object{}
	var maxRev uint64
	for _, o := range objs {
		byKind[o.Kind] = append(byKind[o.Kind], o)
		maxRev = max(maxRev, o.Revision)
	}
	// A subscription runs as a target and a rule of its own.
	for _, o := range byKind[resource.KindSubscription] {
		t, r, err := c.subscriptionResources(o)
		if err != nil {
			c.setStatus(o, StateFailed, err)
			continue
		}
		byKind[resource.KindTarget] = append(byKind[resource.KindTarget], t)
		byKind[resource.KindRule] = append(byKind[resource.KindRule], r)
		c.setStatus(o, StateRunning, nil)
	}
	// So does an O-RAN subscription (package oran).
	for _, o := range byKind[resource.KindOranSubscription] {
		t, r, err := oran.Resources(o, c.cfg.Guard == nil)
		if err != nil {
			c.setStatus(o, StateFailed, err)
			continue
		}
		byKind[resource.KindTarget] = append(byKind[resource.KindTarget], t)
		byKind[resource.KindRule] = append(byKind[resource.KindRule], r)
		c.setStatus(o, StateRunning, nil)
	}

	newTargets := map[string]*liveTarget{}
	for _, o := range byKind[resource.KindTarget] {
		if lt := c.ensureTarget(ctx, o); lt != nil {
			newTargets[o.Name] = lt
		}
	}

	newRules := map[string]*liveRule{}
	var routerRules []router.Rule
	// Which routes have retries waiting: those open their RETRY consumer
	// at start; the others when they first need it (one request for all).
	retries, err := c.cfg.Bus.RetryCounts(ctx)
	if err != nil {
		c.cfg.Log.Warn("cannot list the RETRY subjects; every route opens its RETRY consumer", "err", err)
	}
	c.sizeRuleDedup(ctx, byKind[resource.KindRule])
	for _, o := range byKind[resource.KindRule] {
		lr := c.ensureRule(ctx, o, newTargets, retries)
		if lr == nil {
			continue
		}
		newRules[o.Name] = lr
		routerRules = append(routerRules, router.Rule{Name: o.Name, Sources: lr.spec.Sources, Filter: lr.spec.Filter, Routes: lr.routes})
	}
	// The same running rules: the router keeps its matcher (compiling
	// 10,000 patterns again for a change to a source is not free).
	same := c.routerSet && len(newRules) == len(c.rules)
	for name, lr := range newRules {
		if same && c.rules[name] != lr {
			same = false
		}
	}
	if !same {
		if err := c.cfg.Router.SetRules(ctx, routerRules); err != nil {
			// Every filter compiled when its rule was decoded; this is a bug.
			return fmt.Errorf("controller: router: %w", err)
		}
		c.routerSet = true
	}

	// The router no longer hands events to replaced or deleted routes:
	// stop them (their queued events go back to the bus and reach the new
	// routes), then their targets.
	c.stopRoutes(ctx, newRules)
	for name, lt := range c.targets {
		if newTargets[name] != lt {
			sctx, cancel := context.WithTimeout(context.Background(), c.cfg.StopTimeout)
			_ = lt.sup.Stop(sctx)
			cancel()
			if newTargets[name] == nil {
				c.cfg.Health.Remove("target/" + name)
			}
		}
	}
	c.targets, c.rules = newTargets, newRules

	newSources := map[string]*liveSource{}
	for _, o := range byKind[resource.KindSource] {
		if ls := c.ensureSource(ctx, o); ls != nil {
			newSources[o.Name] = ls
		}
	}
	for name, ls := range c.sources {
		if newSources[name] == nil && ls.sup != nil {
			sctx, cancel := context.WithTimeout(context.Background(), c.cfg.StopTimeout)
			_ = ls.sup.Stop(sctx)
			cancel()
			c.cfg.Health.Remove("source/" + name)
		}
	}
	c.sources = newSources
	c.fileRules = nil // the parse's rules serve the first reconcile only
	c.countSubscriptions(byKind[resource.KindSubscription])
	c.countResources(objs)

	names := make(map[string]bool, len(objs))
	for kind, os := range byKind {
		for _, o := range os {
			names[string(kind)+"."+o.Name] = true
		}
	}
	c.smu.Lock()
	for key := range c.status {
		kind, name, _ := strings.Cut(key, ".")
		if !names[kind+"."+name] {
			delete(c.status, key)
		}
	}
	c.seen = max(c.seen, maxRev)
	if lastErr == nil {
		c.applied = max(c.applied, last)
	}
	c.smu.Unlock()
	return nil
}

// subscriptionResources derives a subscription's target and rule.
func (c *Controller) subscriptionResources(o *resource.Object) (*resource.Object, *resource.Object, error) {
	var sub subscription.Subscription
	if err := json.Unmarshal(o.Spec, &sub); err != nil {
		return nil, nil, fmt.Errorf("subscription: %w", err)
	}
	sub.ID = o.Name
	tspec, rspec, err := subscription.Resources(&sub, subscription.Options{AllowPrivate: c.cfg.Guard == nil})
	if err != nil {
		return nil, nil, err
	}
	name := subscription.Name(o.Name)
	t := &resource.Object{Kind: resource.KindTarget, Name: name, Origin: o.Origin, Spec: tspec, Revision: o.Revision}
	r := &resource.Object{Kind: resource.KindRule, Name: name, Origin: o.Origin, Spec: rspec, Revision: o.Revision, Paused: o.Paused}
	return t, r, nil
}

// countSubscriptions sets the eventbridge_subscriptions gauge: a
// subscription is failed when it, its target or its rule failed, paused
// when its rule is, and running otherwise.
func (c *Controller) countSubscriptions(subs []*resource.Object) {
	if c.cfg.Metrics == nil || c.cfg.Metrics.Subscriptions == nil {
		return
	}
	counts := map[string]int{StateRunning: 0, StateFailed: 0}
	c.smu.RLock()
	for _, o := range subs {
		state := StateRunning
		name := subscription.Name(o.Name)
		rule := c.status[resource.Key(resource.KindRule, name)]
		switch {
		case c.status[o.Key()].State == StateFailed, c.status[resource.Key(resource.KindTarget, name)].State == StateFailed,
			rule.State == StateFailed:
			state = StateFailed
		case rule.State == StatePaused:
			state = StatePaused
		}
		counts[state]++
	}
	c.smu.RUnlock()
	g := c.cfg.Metrics.Subscriptions
	g.Reset()
	for state, n := range counts {
		g.WithLabelValues(state).Set(float64(n))
	}
	if pg := c.cfg.Metrics.SubscriptionsByProtocol; pg != nil {
		byProto := map[string]int{}
		for _, p := range subscription.Protocols {
			byProto[p] = 0
		}
		for _, o := range subs {
			var s struct {
				Protocol string `json:"protocol"`
			}
			if json.Unmarshal(o.Spec, &s) != nil || !slices.Contains(subscription.Protocols, s.Protocol) {
				s.Protocol = "other" // a stored spec the API would refuse
			}
			byProto[s.Protocol]++
		}
		pg.Reset()
		for p, n := range byProto {
			pg.WithLabelValues(p).Set(float64(n))
		}
	}
}

// countResources sets the eventbridge_resources gauge from the stored
// objects (not the targets and rules derived from subscriptions), each
// with its state; a kind that only stores records (oran-publisher) is
// "stored". Every known kind has a series, 0 when it has no resource.
func (c *Controller) countResources(objs []*resource.Object) {
	if c.cfg.Metrics == nil || c.cfg.Metrics.Resources == nil {
		return
	}
	type ks struct{ kind, state string }
	counts := map[ks]int{}
	for _, k := range append(slices.Clone(resource.Kinds), resource.KindOranSubscription, resource.KindOranPublisher) {
		counts[ks{string(k), StateRunning}] = 0
	}
	c.smu.RLock()
	for _, o := range objs {
		state := c.status[o.Key()].State
		if state == "" {
			state = "stored"
		}
		counts[ks{string(o.Kind), state}]++
	}
	c.smu.RUnlock()
	g := c.cfg.Metrics.Resources
	g.Reset()
	for k, n := range counts {
		g.WithLabelValues(k.kind, k.state).Set(float64(n))
	}
}

// refs is the reference policy of an object: only the config file's may
// read the bridge's environment and files; a subscription's target and
// rule have the subscription's origin (api).
func (c *Controller) refs(o *resource.Object) spec.Refs {
	return spec.Refs{EnvFile: o.Origin == resource.OriginFile, Secrets: c.cfg.Secrets}
}

func (c *Controller) deps(o *resource.Object) connector.Deps {
	d := connector.Deps{
		Logger: c.cfg.Logger(string(o.Kind) + "/" + o.Name), Ingest: c.cfg.Ingest,
		HTTP: c.cfg.HTTP, Metrics: c.cfg.Metrics,
	}
	if o.Kind == resource.KindSource {
		d.Jobs = c.cfg.Jobs
	}
	if o.Origin != resource.OriginFile {
		// An API caller chose its addresses (SSRF).
		d.Guard = c.cfg.Guard
	}
	return d
}

func (c *Controller) ensureTarget(ctx context.Context, o *resource.Object) *liveTarget {
	h := resource.Hash(o.Spec)
	if lt, ok := c.targets[o.Name]; ok && lt.hash == h {
		lt.paused = o.Paused
		c.setTargetStatus(o)
		return lt
	}
	cfg, err := resource.DecodeConnectorRefs(resource.KindTarget, o.Spec, "spec", c.refs(o))
	if err != nil {
		c.setStatus(o, StateFailed, err)
		return nil
	}
	typ, _ := connector.LookupTarget(cfg.Base().Type)
	t, err := typ.New(o.Name, cfg, c.deps(o))
	if err != nil {
		c.setStatus(o, StateFailed, err)
		return nil
	}
	st := &supervisedTarget{Target: t}
	sup := component.Supervise("target/"+o.Name, t, c.cfg.Logger("target/"+o.Name))
	sup.OnFailure = c.cfg.OnComponentFailed
	st.sup = sup
	_ = sup.Start(ctx)
	guard := delivery.NewGuard(o.Name, cfg.Base(), delivery.GuardOptions{Log: c.cfg.Logger("target/" + o.Name)})
	c.addHealth("target/"+o.Name, guard.Watch(sup), cfg.Base().Optional)
	c.setTargetStatus(o)
	return &liveTarget{hash: h, sup: sup, t: st, guard: guard, paused: o.Paused}
}

// setTargetStatus records a target's state: a paused target runs, but
// its routes hold their events (setRuleStatus).
func (c *Controller) setTargetStatus(o *resource.Object) {
	if o.Paused {
		c.setStatus(o, StatePaused, nil)
		return
	}
	c.setStatus(o, StateRunning, nil)
}

// ensureRule runs the rule o. retries are the RETRY subjects holding
// messages (nil: unknown, so every new route opens its RETRY consumer).
func (c *Controller) ensureRule(ctx context.Context, o *resource.Object, targets map[string]*liveTarget, retries map[string]uint64) *liveRule {
	// An unchanged rule whose targets are unchanged is kept without
	// decoding its spec again (10,000 rules, any change reconciles all).
	if lr, ok := c.rules[o.Name]; ok && lr.spec != nil {
		h := specHash(o.Spec)
		same := true
		for _, t := range lr.spec.Targets {
			lt, ok := targets[t]
			if !ok {
				same = false
				break
			}
			h += "/" + lt.hash
		}
		if same && lr.hash == h {
			c.setRuleStatus(o, lr, targets)
			return lr
		}
	}
	spec, err := c.decodeRule(o)
	if err != nil {
		c.setStatus(o, StateFailed, err)
		return nil
	}
	h := specHash(o.Spec)
	for _, t := range spec.Targets {
		lt, ok := targets[t]
		if !ok {
			c.setStatus(o, StateFailed, fmt.Errorf("target %q does not exist or its spec is invalid", t))
			return nil
		}
		h += "/" + lt.hash
	}
	if lr, ok := c.rules[o.Name]; ok && lr.hash == h {
		c.setRuleStatus(o, lr, targets)
		return lr
	}
	tr, err := transform.Compile(spec.Transform)
	if err != nil {
		c.setStatus(o, StateFailed, err)
		return nil
	}
	var orderKey *eventkey.Key
	if spec.Ordering != nil {
		if orderKey, err = eventkey.Compile(spec.Ordering.Key); err != nil {
			c.setStatus(o, StateFailed, fmt.Errorf("ordering.key: %w", err))
			return nil
		}
	}
	timing, err := c.ruleTiming(spec)
	if err != nil {
		c.setStatus(o, StateFailed, err)
		return nil
	}
	lr := &liveRule{hash: h, spec: spec}
	var deadLetterTTL time.Duration
	if strings.HasPrefix(o.Name, subscription.Prefix) || strings.HasPrefix(o.Name, oran.RulePrefix) { // the prefixes are kept for subscriptions
		deadLetterTTL = c.cfg.SubscriptionDeadLetterTTL
	}
	for _, tname := range spec.Targets {
		pol := spec.Delivery
		// A target that fills batches from concurrent Sends (http mode
		// batch) needs as many workers as a batch has events.
		if mc, ok := targets[tname].t.Target.(batch.MinConcurrency); ok && mc.MinConcurrency() > pol.Concurrency {
			pol.Concurrency = mc.MinConcurrency()
		}
		rt := delivery.NewRoute(delivery.RouteConfig{
			Rule: o.Name, Target: tname, Policy: pol, Transform: tr,
			Sender: targets[tname].t, Bus: c.cfg.Bus, Keeper: c.cfg.Keeper,
			Metrics: c.cfg.Metrics, Log: c.cfg.Logger("route/" + o.Name + "/" + tname),
			AckWait: c.cfg.AckWait, OnDeadLetter: c.cfg.OnDeadLetter, DeadLetterTTL: deadLetterTTL,
			OnSend: c.cfg.OnSend, Guard: targets[tname].guard,
			HasRetries: retries == nil || retries[bus.RetrySubject(o.Name, tname)] > 0,
			Ordering:   orderKey,
			Timing:     timing,
		})
		if err := rt.Start(ctx); err != nil {
			for _, started := range lr.routes {
				_ = started.Stop(ctx)
			}
			c.setStatus(o, StateFailed, err)
			return nil
		}
		lr.routes = append(lr.routes, rt)
		c.cfg.Health.Add("route/"+rt.Name(), rt)
	}
	c.setRuleStatus(o, lr, targets)
	return lr
}

// decodeRule decodes, expands, defaults and validates a rule's stored
// spec, its filter compiled once: the router's matcher, rebuilt at every
// SetRules, takes the compiled filter from the spec. A rule of the config
// file whose stored spec is the one the file's parse decoded is taken
// from the parse (ApplyFile) rather than decoded again.
func (c *Controller) decodeRule(o *resource.Object) (*resource.Rule, error) {
	if fo := c.fileRules[o.Name]; fo != nil {
		delete(c.fileRules, o.Name)
		if o.Origin == resource.OriginFile && bytes.Equal(fo.Spec, o.Spec) {
			// A copy: the parse's, made among the parse's garbage, would
			// keep its spans in use once that is collected (sharing it
			// measured 25 MB more RSS with 10,000 rules than copying).
			r := new(resource.Rule)
			*r = *fo.Decoded
			if _, text := r.Filter.Pattern.(json.RawMessage); text || r.Filter.Pattern == nil {
				if _, err := filter.Compile(r.Filter); err != nil { // compiled by the parse's Validate: no work
					return nil, err
				}
				return r, nil
			}
		}
	}
	spec, err := resource.DecodeRuleRefs(o.Spec, "spec", c.refs(o))
	if err != nil {
		return nil, err
	}
	// The pattern is kept as JSON text, not as decoded maps (a tenth of
	// the size).
	if p := spec.Filter.Pattern; p != nil {
		if raw, err := json.Marshal(p); err == nil {
			spec.Filter.Pattern = json.RawMessage(raw)
		}
	}
	if spec.Filter, err = filter.Prepare(spec.Filter); err != nil {
		return nil, err
	}
	return spec, nil
}

// specHash tells stored specs apart, cheaply (no JSON decode: 10,000
// rules are compared at every reconcile). Specs that differ only in
// their JSON form hash differently: their rule is rebuilt, which is
// harmless.
func specHash(spec []byte) string {
	return strconv.FormatUint(maphash.Bytes(specSeed, spec), 36)
}

var specSeed = maphash.MakeSeed()

// setRuleStatus applies the rule's paused flag, and its targets', to its
// routes and records its state.
func (c *Controller) setRuleStatus(o *resource.Object, lr *liveRule, targets map[string]*liveTarget) {
	for _, rt := range lr.routes {
		_, target := rt.Key()
		if o.Paused || targets[target] != nil && targets[target].paused {
			rt.Pause()
		} else {
			rt.Resume()
		}
	}
	if o.Paused {
		c.setStatus(o, StatePaused, nil)
		return
	}
	c.setStatus(o, StateRunning, nil)
}

// stopRoutes stops the routes of rules that were replaced or deleted. A
// deleted rule's retries are dropped with it: its RETRY consumer is
// deleted and its subject purged.
func (c *Controller) stopRoutes(ctx context.Context, keep map[string]*liveRule) {
	var wg sync.WaitGroup
	for name, lr := range c.rules {
		if keep[name] == lr {
			continue
		}
		kept := map[string]*delivery.Route{}
		if nr := keep[name]; nr != nil {
			for _, rt := range nr.routes {
				_, t := rt.Key()
				kept[t] = rt
			}
		}
		for _, rt := range lr.routes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sctx, cancel := context.WithTimeout(context.Background(), c.cfg.StopTimeout)
				defer cancel()
				_ = rt.Stop(sctx)
				rule, target := rt.Key()
				if nrt := kept[target]; nrt != nil {
					// The new route takes over the RETRY subject, and
					// what the old one wrote there until it stopped.
					if rt.RetriesOpen() {
						nrt.OpenRetries()
					}
					return
				}
				c.cfg.Health.Remove("route/" + rt.Name())
				c.dropRetries(ctx, rule, target)
			}()
		}
	}
	wg.Wait()
}

func (c *Controller) dropRetries(ctx context.Context, rule, target string) {
	if err := c.cfg.Bus.DropRoute(ctx, rule, target); err != nil {
		c.cfg.Log.Warn("cannot drop a route's retries", "rule", rule, "target", target, "err", err)
	}
}

func (c *Controller) ensureSource(ctx context.Context, o *resource.Object) *liveSource {
	h := resource.Hash(o.Spec)
	old, had := c.sources[o.Name]
	if had && old.hash == h && (old.sup != nil || o.Paused) {
		return c.pauseSource(o, old)
	}
	cfg, err := resource.DecodeConnectorRefs(resource.KindSource, o.Spec, "spec", c.refs(o))
	if err != nil {
		c.setStatus(o, StateFailed, err)
		if had { // keep the old version running rather than nothing
			return old
		}
		return nil
	}
	typ, _ := connector.LookupSource(cfg.Base().Type)
	deps := c.deps(o)
	if !cfg.Base().DedupEnabled() {
		deps.Ingest = noDedup{deps.Ingest}
	}
	gate := &pauseGate{Ingester: deps.Ingest}
	deps.Ingest = gate
	s, err := typ.New(o.Name, cfg, deps)
	if err != nil {
		c.setStatus(o, StateFailed, err)
		return nil
	}
	if had && old.sup != nil {
		// The new version may need the old one's path or port.
		sctx, cancel := context.WithTimeout(context.Background(), c.cfg.StopTimeout)
		_ = old.sup.Stop(sctx)
		cancel()
	}
	ls := &liveSource{hash: h, gate: gate}
	if _, ok := s.(connector.RequestSource); o.Paused && !ok {
		// Paused before it ever ran: stays stopped until resumed.
		c.cfg.Health.Remove("source/" + o.Name)
		ls.paused = true
		c.setStatus(o, StatePaused, nil)
		return ls
	}
	sup := component.Supervise("source/"+o.Name, s, c.cfg.Logger("source/"+o.Name))
	sup.OnFailure = c.cfg.OnComponentFailed
	_ = sup.Start(ctx)
	c.addHealth("source/"+o.Name, sup, cfg.Base().Optional)
	ls.sup = sup
	return c.pauseSource(o, ls)
}

// pauseSource applies a source's paused flag to its running version ls:
// one that answers requests keeps running and refuses events (its gate);
// any other is stopped (the broker keeps its messages, a poll or
// schedule does not run) and started anew by ensureSource on resume.
func (c *Controller) pauseSource(o *resource.Object, ls *liveSource) *liveSource {
	ls.paused = o.Paused
	ls.gate.paused.Store(o.Paused)
	if !o.Paused {
		c.setStatus(o, StateRunning, nil)
		return ls
	}
	if ls.sup != nil {
		if _, ok := ls.sup.Component().(connector.RequestSource); !ok {
			sctx, cancel := context.WithTimeout(context.Background(), c.cfg.StopTimeout)
			_ = ls.sup.Stop(sctx)
			cancel()
			c.cfg.Health.Remove("source/" + o.Name)
			ls.sup = nil
		}
	}
	c.setStatus(o, StatePaused, nil)
	return ls
}

// pauseGate is a source's Ingester; while paused it refuses events with
// connector.ErrSourcePaused.
type pauseGate struct {
	connector.Ingester
	paused atomic.Bool
}

func (g *pauseGate) Ingest(ctx context.Context, source string, events []*ce.Event) error {
	if g.paused.Load() {
		return fmt.Errorf("%s: %w", source, connector.ErrSourcePaused)
	}
	return g.Ingester.Ingest(ctx, source, events)
}

func (c *Controller) addHealth(name string, comp component.Component, optional bool) {
	if optional {
		c.cfg.Health.AddOptional(name, comp)
	} else {
		c.cfg.Health.Add(name, comp)
	}
}

// noDedup is the Ingester of a source with dedup: false.
type noDedup struct{ connector.Ingester }

func (n noDedup) Ingest(ctx context.Context, source string, events []*ce.Event) error {
	if nd, ok := n.Ingester.(interface {
		IngestNoDedup(context.Context, string, []*ce.Event) error
	}); ok {
		return nd.IngestNoDedup(ctx, source, events)
	}
	return n.Ingester.Ingest(ctx, source, events)
}

// supervisedTarget is a target whose Send says ErrNotConnected while its
// supervisor restarts it.
type supervisedTarget struct {
	connector.Target
	sup *component.Supervised
}

func (t *supervisedTarget) Send(ctx context.Context, e *ce.Event) error {
	if !t.sup.Running() {
		return connector.ErrNotConnected
	}
	return t.Target.Send(ctx, e)
}
