// Package server builds the running bridge from its configuration and runs
// its components: bus, targets, routes, router, the shared HTTP server and
// sources, started in that order and stopped in reverse.
package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/eventbridge-dev/eventbridge/internal/activity"
	"github.com/eventbridge-dev/eventbridge/internal/api"
	"github.com/eventbridge-dev/eventbridge/internal/bus"
	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/config"
	"github.com/eventbridge-dev/eventbridge/internal/controller"
	"github.com/eventbridge-dev/eventbridge/internal/deadletter"
	"github.com/eventbridge-dev/eventbridge/internal/delivery"
	"github.com/eventbridge-dev/eventbridge/internal/desired"
	"github.com/eventbridge-dev/eventbridge/internal/eventtypes"
	"github.com/eventbridge-dev/eventbridge/internal/jobs"
	"github.com/eventbridge-dev/eventbridge/internal/lifecycle"
	"github.com/eventbridge-dev/eventbridge/internal/netguard"
	"github.com/eventbridge-dev/eventbridge/internal/operations"
	"github.com/eventbridge-dev/eventbridge/internal/opsvc"
	"github.com/eventbridge-dev/eventbridge/internal/oran"
	"github.com/eventbridge-dev/eventbridge/internal/router"
	"github.com/eventbridge-dev/eventbridge/internal/state"
	"github.com/eventbridge-dev/eventbridge/internal/telemetry"
	"github.com/eventbridge-dev/eventbridge/internal/version"
)

// Bridge is one running eventbridge.
type Bridge struct {
	cfg     *config.Config
	logs    *telemetry.Logs
	log     *slog.Logger
	metrics *telemetry.Metrics
	health  *component.Registry

	bus        *bus.Bus
	store      *desired.Store
	keeper     *delivery.Keeper
	router     *router.Router
	controller *controller.Controller
	mux        *mux
	http       *httpServer
	// metricsHTTP serves /metrics when api.metrics_listen is set.
	metricsHTTP *httpServer
	api         *api.API
	ops         *operations.Manager
	catalog     *eventtypes.Catalog
	lifecycle   *lifecycle.Publisher
	jobs        *jobs.Manager
	oran        *oran.Service
	oranHTTP    *httpServer
	state       *state.Store // nil when state.enabled is false
	activity    *activity.Recorder

	stopTracing func(context.Context) error

	stopGauges chan struct{}
	started    atomic.Bool // Start finished: only then is the bridge ready
	stopOnce   sync.Once

	// routerMu orders the router's restart after the bus restarted
	// JetStream (restartRouter) with its stop; stopped is set by stop.
	routerMu sync.Mutex
	stopped  bool
}

// New prepares a bridge; Start runs it. Logs go to log's handler, each
// component with its own logger (instance and component attributes,
// levels changeable through /v1/loggers); nil log: the config's log
// section decides.
func New(cfg *config.Config, log *slog.Logger) *Bridge {
	var base slog.Handler
	if log != nil {
		base = log.Handler()
	} else {
		base = cfg.LogHandler()
	}
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.Log.Level))
	logs := telemetry.NewLogs(base.WithAttrs([]slog.Attr{slog.String("instance", cfg.Instance.Name)}), lvl)
	return &Bridge{cfg: cfg, logs: logs, log: logs.Root(), metrics: newMetrics(cfg.Instance), health: component.NewRegistry()}
}

// Logs returns the bridge's loggers.
func (b *Bridge) Logs() *telemetry.Logs { return b.logs }

// Metrics returns the bridge's metrics.
func (b *Bridge) Metrics() *telemetry.Metrics { return b.metrics }

// Bus returns the bridge's bus (nil before Start).
func (b *Bridge) Bus() *bus.Bus { return b.bus }

// Store returns the desired state (nil before Start).
func (b *Bridge) Store() *desired.Store { return b.store }

// State returns the current state (nil before Start, and when
// state.enabled is false).
func (b *Bridge) State() *state.Store { return b.state }

// Controller returns the controller (nil before Start).
func (b *Bridge) Controller() *controller.Controller { return b.controller }

// MetricsAddr returns the address of the separate metrics listener, if any.
func (b *Bridge) MetricsAddr() string {
	if b.metricsHTTP == nil {
		return ""
	}
	return b.metricsHTTP.ln.Addr().String()
}

// Addr returns the address the shared HTTP server listens on.
func (b *Bridge) Addr() string {
	if b.http == nil {
		return ""
	}
	return b.http.ln.Addr().String()
}

// Jobs returns the scheduler of the poll and cron sources (nil before Start).
func (b *Bridge) Jobs() *jobs.Manager { return b.jobs }

// API returns the REST API (nil before Start).
func (b *Bridge) API() *api.API { return b.api }

// Health returns the readiness report.
func (b *Bridge) Health() component.Report {
	rep := b.health.Report()
	if !b.started.Load() {
		rep.Ready = false
	}
	return rep
}

// Start brings everything up. On error, what was started is stopped.
//
// Order: bus and store; the config file's resources into the store; the
// HTTP server; one reconcile (targets, rules, sources); then the router,
// so that events left from a previous run meet the rules, not an empty
// rule set; then the watch that applies later changes.
func (b *Bridge) Start(ctx context.Context) (err error) {
	defer func() {
		if err != nil {
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = b.Stop(sctx)
		}
	}()
	// The config file's resources go to the store once (ApplyFile below);
	// the bridge does not keep their parsed specs (10,000 rules), only
	// the rules it hands on to the controller, which shares them.
	fileObjs := b.cfg.Objects()
	b.cfg = b.cfg.WithoutResources()
	if b.stopTracing, err = telemetry.SetupTracing(ctx, b.cfg.Tracing, b.cfg.Instance.Name, version.Version); err != nil {
		return err
	}
	b.bus, err = bus.Open(ctx, b.cfg.Bus, b.logs.Logger("bus"))
	if err != nil {
		return err
	}
	b.health.Add("bus", b.bus)
	if st := b.bus.Storage(); st != nil {
		// Optional: a full disk makes /readyz degraded, not unready, so
		// that producers still reach the sources and get their 507.
		b.health.AddOptional("storage", st)
	}
	b.store, err = desired.Open(ctx, b.bus)
	if err != nil {
		return err
	}
	b.catalog, err = eventtypes.Open(ctx, b.bus, b.logs.Logger("catalog"))
	if err != nil {
		return err
	}
	if b.cfg.State.On() {
		if b.state, err = state.Open(ctx, b.bus, state.SizeTo(b.cfg.State, b.bus.SpareStoreBytes(), b.logs.Logger("state")), b.logs.Logger("state")); err != nil {
			return err
		}
	}
	if err := b.startJobs(ctx); err != nil {
		return err
	}
	b.keeper = delivery.NewKeeper(b.cfg.Bus.AckWait.D())
	b.router = router.New(router.Config{
		Bus: b.bus, AckWait: b.cfg.Bus.AckWait.D(), Keeper: b.keeper,
		Metrics: b.metrics, Log: b.logs.Logger("router"), Observe: b.catalog.Observe,
		OptIn: []string{lifecycle.SourceName},
	})

	b.mux = newMux()
	b.mux.started = b.started.Load
	b.mux.base.HandleFunc("GET /healthz", b.serveHealthz)
	b.mux.base.HandleFunc("GET /readyz", b.serveReadyz)
	b.mountConsole(b.mux.base)
	metrics := promhttp.HandlerFor(b.metrics.Registry, promhttp.HandlerOpts{})
	if b.cfg.API.MetricsListen == "" {
		b.mux.base.Handle("GET /metrics", metrics)
	} else {
		mm := http.NewServeMux()
		mm.Handle("GET /metrics", metrics)
		if b.metricsHTTP, err = startHTTP(b.cfg.API.MetricsListen, mm, nil, b.cfg.API.ReadTimeout.D()); err != nil {
			return err
		}
		b.log.Info("metrics listening", "addr", b.metricsHTTP.ln.Addr().String())
	}
	if b.cfg.API.Pprof {
		mountPprof(b.mux.base)
	}
	tokens := map[string]api.Token{}
	for n, t := range b.cfg.API.Tokens {
		tokens[n] = *t
	}
	var certScopes []api.Scope
	if b.cfg.API.TLS != nil {
		certScopes = b.cfg.API.TLS.ClientScopes
	}
	auth, err := api.NewAuth(tokens, certScopes)
	if err != nil {
		return err
	}
	tlsCfg, err := serverTLS(b.cfg.API.TLS)
	if err != nil {
		return err
	}
	b.http, err = startHTTP(b.cfg.API.Listen, b.mux, tlsCfg, b.cfg.API.ReadTimeout.D())
	if err != nil {
		return err
	}
	b.log.Info("HTTP server listening", "addr", b.Addr(), "tls", tlsCfg != nil)
	if auth.Open() {
		b.log.Warn("the API has no tokens (api.tokens): it answers loopback clients only")
	}

	ing := &ingester{bus: b.bus, metrics: b.metrics, log: b.logs.Logger("ingest")}
	b.oran = b.newOran(ing)
	b.lifecycle = lifecycle.New(b.cfg.Lifecycle, ing, b.cfg.Instance.Name, version.Version, b.logs.Logger("lifecycle"))
	b.metrics.ConnWatch = &telemetry.ConnWatch{Grace: b.cfg.Lifecycle.Grace(), Notify: b.connChanged}
	guard := netguard.Strict
	if b.cfg.API.PrivateAddressesAllowed() {
		guard = nil
	}
	b.controller = controller.New(controller.Config{
		Store: b.store, Bus: b.bus, AckWait: b.cfg.Bus.AckWait.D(), Keeper: b.keeper,
		Router: b.router, HTTP: b.mux, Ingest: ing,
		OnDeadLetter: b.lifecycle.DeadLettered, OnComponentFailed: b.lifecycle.ComponentFailed,
		Metrics: b.metrics, Health: b.health, Log: b.logs.Logger("controller"), Logger: b.logs.Logger,
		StopTimeout: b.cfg.ShutdownTimeout.D(), Guard: guard,
		Jobs: b.jobs, SubscriptionDeadLetterTTL: b.cfg.SubscriptionDeadLetterTTL(), Secrets: b.cfg.Secrets,
		OnSend: b.oran.Delivered,
	})
	ops, err := b.newOps(ctx)
	if err != nil {
		return err
	}
	b.ops = ops
	dlq := b.newDLQ()
	// The API asks the operations service to start replays and redrives.
	opService := opsvc.New(opsvc.Config{Manager: b.ops, Archive: b.bus.Archive(), Rules: b.controller, DLQ: dlq})
	b.api = api.New(api.Deps{
		Store: b.store, Controller: b.controller, Health: b.health, Counters: b.counters, Auth: auth,
		DLQ: dlq, Ops: opService, Archive: b.bus.Archive(), Catalog: b.catalog,
		Guard: guard, Logs: b.logs,
		Jobs: b.jobs, Secrets: b.cfg.Secrets, State: b.state,
		Oran: b.oran, Activity: b.activityReport,
	})
	b.api.Register(b.mux.base)
	if err := b.controller.ApplyFile(ctx, fileObjs); err != nil {
		return fmt.Errorf("applying %s: %w", b.cfg.Path, err)
	}
	if err := b.controller.Reconcile(ctx); err != nil {
		return err
	}
	if err := b.router.Start(ctx); err != nil {
		return err
	}
	b.health.Add("router", b.router)
	b.bus.OnRestart(b.restartRouter)
	if b.state != nil {
		if err := b.state.StartFeed(ctx, state.ResourceKeys(b.store)); err != nil {
			return err
		}
		b.bus.OnRestart(b.state.RestartFeed)
	}
	b.controller.Watch()
	b.ops.Start() // continue the operations whose owner is gone
	b.oran.RefreshMetrics(ctx)
	if err := b.startOran(auth); err != nil {
		return err
	}
	b.stopGauges = make(chan struct{})
	go b.updateGauges(b.stopGauges)
	go b.activity.Run(b.stopGauges)
	b.lifecycle.Start(ctx, b.bus.Provisioned)
	b.started.Store(true)
	b.log.Info("eventbridge started")
	return nil
}

// Stop stops intake (sources, then the HTTP server once requests in flight
// are answered), stops routing, lets routes deliver what they hold until
// ctx is done, and closes the bus. What was not delivered stays in the bus
// for the next start.
func (b *Bridge) Stop(ctx context.Context) error {
	var err error
	b.stopOnce.Do(func() { err = b.stop(ctx) })
	return err
}

func (b *Bridge) stop(ctx context.Context) error {
	var errs []error
	b.lifecycle.Stop(ctx)
	if b.stopGauges != nil {
		close(b.stopGauges)
		b.stopGauges = nil
	}
	if b.controller != nil {
		b.controller.StopSources(ctx)
	}
	if b.jobs != nil {
		if err := b.jobs.Stop(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if b.http != nil {
		if err := b.http.shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("http server: %w", err))
		}
	}
	if b.metricsHTTP != nil {
		_ = b.metricsHTTP.shutdown(ctx)
	}
	if b.oranHTTP != nil {
		_ = b.oranHTTP.shutdown(ctx)
	}
	if b.ops != nil {
		// Running operations are handed over, not cancelled: another
		// replica, or this one's next start, continues them.
		if err := b.ops.Stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("operations: %w", err))
		}
	}
	b.routerMu.Lock()
	b.stopped = true
	b.routerMu.Unlock()
	if b.router != nil {
		_ = b.router.Stop(ctx)
	}
	if b.controller != nil {
		b.controller.Stop(ctx)
	}
	if b.router != nil {
		// Routing from ingest: save the router's checkpoint with what the
		// routes settled as they stopped (the rest is read back from the
		// archive at the next start).
		b.router.Trim(ctx)
	}
	if b.keeper != nil {
		b.keeper.Close()
	}
	if b.catalog != nil {
		b.catalog.Close()
	}
	if b.state != nil {
		b.state.StopFeed()
	}
	if b.bus != nil {
		b.bus.Close()
	}
	if b.stopTracing != nil {
		if err := b.stopTracing(ctx); err != nil {
			errs = append(errs, fmt.Errorf("tracing: %w", err))
		}
	}
	return errors.Join(errs...)
}

// restartRouter makes the router pull from WORK again after the bus
// restarted JetStream, which dropped the consumer's pull requests (it would
// otherwise wait for missed heartbeats).
func (b *Bridge) restartRouter() {
	b.routerMu.Lock()
	defer b.routerMu.Unlock()
	if b.stopped {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = b.router.Stop(ctx)
	if err := b.router.Start(ctx); err != nil {
		b.log.Error("cannot restart the router after JetStream restarted", "err", err)
	}
}

func (b *Bridge) serveHealthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"status":"ok"}` + "\n"))
}

func (b *Bridge) serveReadyz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if !b.started.Load() {
		// Not ready whatever the components say: no report (with 10,000
		// rules it has 10,000 routes, a megabyte to encode at each probe
		// while the start makes them).
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("{\n  \"ready\": false,\n  \"starting\": true,\n  \"components\": {}\n}\n"))
		return
	}
	rep := b.Health()
	if !rep.Ready {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(rep)
}

// updateGauges refreshes the gauges that are read from the bus.
func (b *Bridge) updateGauges(stop chan struct{}) {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			b.refreshGauges()
		}
	}
}

// newDLQ is the DLQ the API reads; a redrive makes the route read its
// RETRY subject (routes open their RETRY consumer lazily).
func (b *Bridge) newDLQ() *deadletter.DLQ {
	dlq := deadletter.New(b.bus.DeadLetters())
	dlq.OnRedrive = b.controller.OpenRetries
	return dlq
}

// RefreshGauges reads the gauges that come from the bus now (they are
// also refreshed every 5 seconds).
func (b *Bridge) RefreshGauges() { b.refreshGauges() }

func (b *Bridge) refreshGauges() {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	defer cancel()
	m := b.metrics
	for name, st := range b.bus.StreamStats(ctx) {
		m.StreamMessages.WithLabelValues(name).Set(float64(st.Msgs))
		m.StreamBytes.WithLabelValues(name).Set(float64(st.Bytes))
	}
	consumer := func(stream, name string) (bus.ConsumerStats, bool) {
		st, err := b.bus.ConsumerStats(ctx, stream, name)
		if err != nil {
			return st, false
		}
		m.ConsumerPending.WithLabelValues(name).Set(float64(st.Pending))
		m.ConsumerAckPending.WithLabelValues(name).Set(float64(st.AckPending))
		m.ConsumerRedelivered.WithLabelValues(name).Set(float64(st.Redelivered))
		return st, true
	}
	consumer(bus.StreamWork, router.ConsumerName)
	if b.state != nil { // the state's lag
		if pending, writing, local, ok := b.state.FeedLag(); ok && local {
			// The embedded bus feeds it in process (no consumer): the
			// same gauges, from the feed's queue.
			m.ConsumerPending.WithLabelValues(state.ConsumerName).Set(float64(pending))
			m.ConsumerAckPending.WithLabelValues(state.ConsumerName).Set(float64(writing))
		} else {
			consumer(bus.StreamEvents, state.ConsumerName)
		}
	}
	dlq, _ := b.bus.DeadLetters().Counts(ctx, "")
	// One request for every route's RETRY backlog (not one per route); a
	// route with messages waiting (a redrive, say) opens its consumer.
	retries, rerr := b.bus.RetryCounts(ctx)
	for _, rt := range b.controller.Routes() {
		rule, target := rt.Key()
		waiting := retries[bus.RetrySubject(rule, target)]
		if waiting > 0 {
			rt.OpenRetries()
		}
		n := dlq[bus.DLQSubject(rule, target)]
		if rt.RetriesOpen() { // its consumer's gauges; an idle route has no consumer
			if st, ok := consumer(bus.StreamRetry, delivery.RetryConsumerName(rule, target)); ok && rerr != nil {
				waiting = st.Pending + uint64(st.AckPending)
			}
		}
		pending := uint64(rt.QueueLen()) + waiting
		// An idle route has no series (they cost memory, 10,000 rules).
		if n == 0 && pending == 0 && !rt.Active() {
			m.DLQ.DeleteLabelValues(rule, target)
			m.Pending.DeleteLabelValues(rule, target)
			continue
		}
		m.DLQ.WithLabelValues(rule, target).Set(float64(n))
		m.Pending.WithLabelValues(rule, target).Set(float64(pending))
	}
}
