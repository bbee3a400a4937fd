// Package controller turns the desired state in the store into running
// components, the way a Kubernetes controller does: it watches the config
// bucket and, on every change, starts, replaces or stops sources, targets
// and rule routes to match. Every replica runs one, so a change made
// through any replica reaches all of them.
package controller

import (
	"bytes"
	"context"

	"errors"
	ce "github.com/cloudevents/sdk-go/v2/event"
	"log/slog"
	"sync"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/controller/runstatus"
	"github.com/eventbridge-dev/eventbridge/internal/delivery"
	"github.com/eventbridge-dev/eventbridge/internal/desired"
	"github.com/eventbridge-dev/eventbridge/internal/jobs"
	"github.com/eventbridge-dev/eventbridge/internal/netguard"
	"github.com/eventbridge-dev/eventbridge/internal/resource"
	"github.com/eventbridge-dev/eventbridge/internal/router"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
	"github.com/eventbridge-dev/eventbridge/internal/telemetry"
)

// Config is what the controller drives.
type Config struct {
	Store   *desired.Store
	Bus     *bus.Bus // the routes' RETRY queues and dead letters
	AckWait time.Duration
	Keeper  *delivery.Keeper
	Router  *router.Router
	HTTP    connector.Mounter
	Ingest  connector.Ingester
	Metrics *telemetry.Metrics
	Health  *component.Registry
	Log     *slog.Logger
	// StopTimeout bounds stopping a replaced route or source. Default 30s.
	StopTimeout time.Duration
	// SubscriptionDeadLetterTTL, when positive, is how long the dead
	// letters of subscriptions are kept.
	SubscriptionDeadLetterTTL time.Duration
	// Guard is applied to the outgoing connections of resources created
	// through the API (subscriptions included); nil lets them reach any
	// address (api.allow_private_addresses). The config file's resources
	// are the operator's and never guarded.
	Guard *netguard.Guard
	// Logger returns a component's logger ("source/web"); nil: Log.With.
	Logger func(name string) *slog.Logger
	// OnDeadLetter and OnComponentFailed, when set, are told of dead
	// letters and of failed components (lifecycle events).
	OnDeadLetter      func(rule, target, reason string, e *ce.Event, attempts int, cause error)
	OnComponentFailed func(name string, err error)
	// OnSend, when set, is told of every delivery attempt (see
	// delivery.RouteConfig.OnSend).
	OnSend func(rule, target string, err error)
	// Jobs schedules the sources that poll or run on a timer.
	Jobs jobs.Scheduler
	// Secrets are the config file's named secrets, for ${secret:NAME}.
	Secrets map[string]spec.Secret
}

// State of a resource, as shown by the API (internal/controller/runstatus).
const (
	StateRunning = runstatus.Running
	StateFailed  = runstatus.Failed
	StatePaused  = runstatus.Paused
	StateStarted = runstatus.Started
)

// Status is what the controller knows of one resource.
type Status = runstatus.Status

// Controller reconciles desired state into running components.
type Controller struct {
	cfg Config

	mu      sync.Mutex // serializes reconciles and guards the maps below
	targets map[string]*liveTarget
	rules   map[string]*liveRule
	sources map[string]*liveSource
	// routerSet: the router has the rules above (SetRules ran once).
	routerSet bool
	dedup     ruleDedup // the rules' dedup bucket (timing.go)
	// fileRules are the config file's rules as its parse decoded them
	// (ApplyFile), by name: the first reconcile takes each whose stored
	// spec is still the file's instead of decoding and validating it
	// again, then forgets them all.
	fileRules map[string]*resource.Object

	smu    sync.RWMutex
	status map[string]Status
	seen   uint64 // highest store revision applied
	// applied is the store's last revision (write or delete) when the
	// last successful reconcile listed it: nothing changed since if the
	// store is still there.
	applied uint64

	kick   chan struct{}
	cancel context.CancelFunc
	done   chan struct{}
}

type liveTarget struct {
	hash  string
	sup   *component.Supervised
	t     *supervisedTarget
	guard *delivery.Guard // rate_limit and circuit_breaker, for its routes
	// paused: the target's routes keep their events in RETRY.
	paused bool
}

type liveRule struct {
	hash   string
	spec   *resource.Rule
	routes []*delivery.Route
}

type liveSource struct {
	hash string
	sup  *component.Supervised // nil while a paused source is stopped
	// gate refuses events while a source that answers requests is paused.
	gate   *pauseGate
	paused bool
}

// New returns a controller; Reconcile applies the store once, Watch keeps
// applying it.
func New(cfg Config) *Controller {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Logger == nil {
		base := cfg.Log
		cfg.Logger = func(name string) *slog.Logger { return base.With("component", name) }
	}
	if cfg.StopTimeout == 0 {
		cfg.StopTimeout = 30 * time.Second
	}
	return &Controller{
		cfg:     cfg,
		targets: map[string]*liveTarget{}, rules: map[string]*liveRule{}, sources: map[string]*liveSource{},
		status: map[string]Status{},
		kick:   make(chan struct{}, 1),
	}
}

// ApplyFile writes the config file's resources to the store with origin
// "file", and removes file resources that the file no longer has.
// Resources created through the API are left alone, unless the file now
// defines one of the same name, which the file takes over.
func (c *Controller) ApplyFile(ctx context.Context, objs []*resource.Object) error {
	want := map[string]bool{}
	// One listing, not a read per object (10,000 rules), and the writes
	// a few at a time.
	stored, err := c.cfg.Store.List(ctx, "")
	if err != nil {
		return err
	}
	byKey := make(map[string]*resource.Object, len(stored))
	for _, o := range stored {
		byKey[o.Key()] = o
	}
	var puts []*resource.Object
	c.mu.Lock()
	for _, o := range objs {
		if o.Kind == resource.KindRule && o.Decoded != nil {
			if c.fileRules == nil {
				c.fileRules = map[string]*resource.Object{}
			}
			c.fileRules[o.Name] = o
		}
	}
	c.mu.Unlock()
	for _, o := range objs {
		want[o.Key()] = true
		old := byKey[o.Key()]
		switch {
		case old != nil && old.Origin == o.Origin && old.File == o.File && sameSpec(old.Spec, o.Spec):
			continue
		case old != nil && old.Origin == resource.OriginAPI:
			c.cfg.Log.Warn("the config file takes over a resource created through the API", "kind", o.Kind, "name", o.Name)
		case old != nil:
			o.Paused = old.Paused
		}
		if old != nil && o.Created.IsZero() {
			o.Created = old.Created
		} else if o.Created.IsZero() {
			o.Created = time.Now().UTC()
		}
		puts = append(puts, o)
	}
	if err := putAll(ctx, c.cfg.Store, puts); err != nil {
		return err
	}
	all := stored
	for _, o := range all {
		if o.Origin == resource.OriginFile && !want[o.Key()] {
			c.cfg.Log.Info("removing a resource no longer in the config file", "kind", o.Kind, "name", o.Name)
			if err := c.cfg.Store.Delete(ctx, o.Kind, o.Name, 0); err != nil && !errors.Is(err, desired.ErrNotFound) {
				return err
			}
		}
	}
	return nil
}

// Watch applies every change to the store until Stop. Call it after the
// first Reconcile.
func (c *Controller) Watch() {
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	c.done = make(chan struct{})
	go c.watch(ctx)
}

func (c *Controller) watch(ctx context.Context) {
	// The reconciler is joined before done closes: a reconcile that began
	// after StopSources had stopped everything would start components
	// that nothing stops.
	var wg sync.WaitGroup
	defer func() { wg.Wait(); close(c.done) }()
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-ctx.Done():
				return
			case <-c.kick:
			}
			select { // let a burst of changes land
			case <-ctx.Done():
				return
			case <-time.After(20 * time.Millisecond):
			}
			rctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
			if err := c.Reconcile(rctx); err != nil && ctx.Err() == nil {
				c.cfg.Log.Error("reconcile", "err", err)
				c.Kick()
			}
			cancel()
		}
	}()
	backoff := time.Second
	for ctx.Err() == nil {
		w, err := c.cfg.Store.WatchChanges(ctx)
		if err != nil {
			c.cfg.Log.Warn("cannot watch the config bucket; retrying", "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 30*time.Second)
			continue
		}
		backoff = time.Second
		// Changes made before the watch began are not in its updates:
		// reconcile once now so none is missed (a resource created by the
		// API right after start-up would otherwise wait for the next
		// change), unless the store has not changed since the last
		// reconcile (start-up: listing 10,000 rules again is not free).
		if last, err := c.cfg.Store.LastRevision(ctx); err != nil || last > c.appliedRevision() {
			c.Kick()
		}
		for e := range w.Updates() {
			if e != nil {
				c.Kick()
			}
		}
		_ = w.Stop()
	}
}

// Kick asks for a reconcile.
func (c *Controller) Kick() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// Status returns what the controller knows of a resource.
func (c *Controller) Status(kind resource.Kind, name string) (Status, bool) {
	c.smu.RLock()
	defer c.smu.RUnlock()
	s, ok := c.status[resource.Key(kind, name)]
	return s, ok
}

// appliedRevision is the store's last revision that a reconcile saw.
func (c *Controller) appliedRevision() uint64 {
	c.smu.RLock()
	defer c.smu.RUnlock()
	return c.applied
}

// AppliedRevision is the highest store revision applied so far.
func (c *Controller) AppliedRevision() uint64 {
	c.smu.RLock()
	defer c.smu.RUnlock()
	return c.seen
}

func (c *Controller) setStatus(o *resource.Object, state string, err error) {
	st := Status{State: state, Revision: o.Revision}
	if err != nil {
		st.Error = err.Error()
		var ve *spec.ValidationError
		if errors.As(err, &ve) {
			st.Problems = ve.Problems
		}
	}
	c.smu.Lock()
	defer c.smu.Unlock()
	old, ok := c.status[o.Key()]
	st.Since = time.Now().UTC()
	if ok && old.State == st.State && old.Error == st.Error {
		st.Since = old.Since
	}
	c.status[o.Key()] = st
}

// StopSources stops every source: intake ends.
func (c *Controller) StopSources(ctx context.Context) {
	if c.cancel != nil {
		c.cancel()
		<-c.done
		c.cancel = nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for name, ls := range c.sources {
		if ls.sup != nil {
			_ = ls.sup.Stop(ctx)
		}
		c.cfg.Health.Remove("source/" + name)
	}
	c.sources = map[string]*liveSource{}
}

// Stop stops every route (deliveries in flight finish until ctx is done)
// and target. Call StopSources and stop the router first.
func (c *Controller) Stop(ctx context.Context) {
	c.StopSources(ctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	var wg sync.WaitGroup
	for _, lr := range c.rules {
		for _, rt := range lr.routes {
			wg.Add(1)
			go func() { defer wg.Done(); _ = rt.Stop(ctx) }()
		}
	}
	wg.Wait()
	for _, lt := range c.targets {
		_ = lt.sup.Stop(ctx)
	}
	c.rules, c.targets = map[string]*liveRule{}, map[string]*liveTarget{}
}

// Routes returns every running route.
func (c *Controller) Routes() []*delivery.Route {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*delivery.Route
	for _, lr := range c.rules {
		out = append(out, lr.routes...)
	}
	return out
}

// OpenRetries makes the route (rule, target), if it runs, read its RETRY
// subject (something else wrote there: a redrive).
func (c *Controller) OpenRetries(rule, target string) {
	c.mu.Lock()
	lr := c.rules[rule]
	c.mu.Unlock()
	if lr == nil {
		return
	}
	for _, rt := range lr.routes {
		if _, t := rt.Key(); t == target {
			rt.OpenRetries()
		}
	}
}

// Rule returns a running rule's spec and routes.
func (c *Controller) Rule(name string) (*resource.Rule, []*delivery.Route, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	lr, ok := c.rules[name]
	if !ok {
		return nil, nil, false
	}
	return lr.spec, append([]*delivery.Route(nil), lr.routes...), true
}

// sameSpec tells whether two stored specs are the same: the same bytes
// (the file's specs are written in one form: no JSON decode for 10,000
// rules at each start), or the same canonical form.
func sameSpec(a, b []byte) bool {
	return bytes.Equal(a, b) || resource.Hash(a) == resource.Hash(b)
}

// putAll writes objs to the store, a few at a time.
func putAll(ctx context.Context, st *desired.Store, objs []*resource.Object) error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	sem := make(chan struct{}, 16)
	for _, o := range objs {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if _, err := st.Put(ctx, o, 0, false); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
