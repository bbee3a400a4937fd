package controller

// Contract tests of the controller against an embedded bus (bustest), a
// real store, router and routes, and fake connector types: the order in
// which a reconcile starts and stops things, and that a bad resource fails
// alone.

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
	"github.com/eventbridge-dev/eventbridge/internal/bus/bustest"
	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/delivery"
	"github.com/eventbridge-dev/eventbridge/internal/desired"
	"github.com/eventbridge-dev/eventbridge/internal/resource"
	"github.com/eventbridge-dev/eventbridge/internal/router"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
	"github.com/eventbridge-dev/eventbridge/internal/telemetry"
)

// fakeType is the connector type of the fakes, for sources and targets.
const fakeType = "controller-contract-fake"

// fakeConfig is the spec of a fake: bad makes it invalid; probe (sources)
// is the id of an event the source ingests when it starts.
type fakeConfig struct {
	connector.Common `yaml:",inline"`
	Bad              bool   `json:"bad,omitempty"`
	Probe            string `json:"probe,omitempty"`
}

func (c *fakeConfig) Defaults() {}

func (c *fakeConfig) Validate(p spec.Problems) {
	if c.Bad {
		p.AddAt("bad", "must not be true")
	}
}

// fakes are the connectors the controller built, by kind/name (the latest
// of each), and the log of what they did, in order. A test resets them.
var fakes struct {
	mu      sync.Mutex
	targets map[string]*bustest.Target
	sources map[string]*fakeSource
	log     []string
	// onTargetStart and onTargetStop run in a target's Start and Stop.
	onTargetStart, onTargetStop func(name string)
	// probe waits for a probe event to be delivered.
	probe func(id string) bool
}

func logf(format string, args ...any) {
	fakes.mu.Lock()
	defer fakes.mu.Unlock()
	fakes.log = append(fakes.log, fmt.Sprintf(format, args...))
}

func fakeLog() []string {
	fakes.mu.Lock()
	defer fakes.mu.Unlock()
	return slices.Clone(fakes.log)
}

type fakeSource struct {
	component.Tracker
	name  string
	cfg   *fakeConfig
	deps  connector.Deps
	stops int
}

func (s *fakeSource) Start(ctx context.Context) error {
	logf("start source/%s", s.name)
	if s.cfg.Probe != "" {
		if err := s.deps.Ingest.Ingest(ctx, s.name, []*ce.Event{bustest.Event(s.cfg.Probe, "com.example.probe")}); err != nil {
			return err
		}
		fakes.mu.Lock()
		probe := fakes.probe
		fakes.mu.Unlock()
		logf("probe %s delivered: %v", s.cfg.Probe, probe(s.cfg.Probe))
	}
	s.Set(component.Running, nil)
	return nil
}

func (s *fakeSource) Stop(context.Context) error {
	fakes.mu.Lock()
	s.stops++
	fakes.mu.Unlock()
	logf("stop source/%s", s.name)
	s.Set(component.Terminated, nil)
	return nil
}

func init() {
	connector.RegisterTarget(connector.TargetType{
		Name: fakeType, Doc: "controller contract tests",
		NewConfig: func() connector.Config { return &fakeConfig{} },
		New: func(name string, _ connector.Config, _ connector.Deps) (connector.Target, error) {
			t := bustest.NewTarget()
			t.OnStart(func() {
				logf("start target/%s", name)
				fakes.mu.Lock()
				f := fakes.onTargetStart
				fakes.mu.Unlock()
				if f != nil {
					f(name)
				}
			})
			t.OnStop(func() {
				logf("stop target/%s", name)
				fakes.mu.Lock()
				f := fakes.onTargetStop
				fakes.mu.Unlock()
				if f != nil {
					f(name)
				}
			})
			fakes.mu.Lock()
			fakes.targets[name] = t
			fakes.mu.Unlock()
			return t, nil
		},
	})
	connector.RegisterSource(connector.SourceType{
		Name: fakeType, Doc: "controller contract tests",
		NewConfig: func() connector.Config { return &fakeConfig{} },
		New: func(name string, cfg connector.Config, deps connector.Deps) (connector.Source, error) {
			s := &fakeSource{name: name, cfg: cfg.(*fakeConfig), deps: deps}
			fakes.mu.Lock()
			fakes.sources[name] = s
			fakes.mu.Unlock()
			return s, nil
		},
	})
}

type ctlHarness struct {
	bus   *bus.Bus
	store *desired.Store
	ctl   *Controller
}

func newCtlHarness(t *testing.T) *ctlHarness {
	t.Helper()
	fakes.mu.Lock()
	fakes.targets, fakes.sources, fakes.log = map[string]*bustest.Target{}, map[string]*fakeSource{}, nil
	fakes.onTargetStart, fakes.onTargetStop = nil, nil
	fakes.probe = func(id string) bool {
		deadline := time.Now().Add(45 * time.Second)
		for time.Now().Before(deadline) {
			fakes.mu.Lock()
			for _, t := range fakes.targets {
				if slices.Contains(t.Delivered(), id) {
					fakes.mu.Unlock()
					return true
				}
			}
			fakes.mu.Unlock()
			time.Sleep(10 * time.Millisecond)
		}
		return false
	}
	fakes.mu.Unlock()

	b := bustest.New(t)
	ctx := bustest.Context(t)
	st, err := desired.Open(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	metrics := telemetry.NewMetrics()
	keeper := delivery.NewKeeper(b.Config().AckWait.D())
	t.Cleanup(keeper.Close)
	rt := router.New(router.Config{Bus: b, AckWait: b.Config().AckWait.D(), Keeper: keeper, Metrics: metrics, Log: bustest.Logger(t)})
	if err := rt.Start(ctx); err != nil {
		t.Fatal(err)
	}
	ctl := New(Config{
		Store: st, Bus: b, AckWait: b.Config().AckWait.D(), Keeper: keeper, Router: rt,
		Ingest: bustest.Ingester{Bus: b}, Metrics: metrics, Health: component.NewRegistry(), Log: bustest.Logger(t),
		StopTimeout: 10 * time.Second,
	})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		ctl.StopSources(ctx)
		_ = rt.Stop(ctx)
		ctl.Stop(ctx)
	})
	return &ctlHarness{bus: b, store: st, ctl: ctl}
}

func (h *ctlHarness) put(t *testing.T, kind resource.Kind, name string, sp any) {
	t.Helper()
	raw, err := json.Marshal(sp)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.store.Put(bustest.Context(t), &resource.Object{Kind: kind, Name: name, Origin: resource.OriginAPI, Spec: raw}, 0, false); err != nil {
		t.Fatal(err)
	}
}

func (h *ctlHarness) del(t *testing.T, kind resource.Kind, name string) {
	t.Helper()
	if err := h.store.Delete(bustest.Context(t), kind, name, 0); err != nil {
		t.Fatal(err)
	}
}

func (h *ctlHarness) reconcile(t *testing.T) {
	t.Helper()
	if err := h.ctl.Reconcile(bustest.Context(t)); err != nil {
		t.Fatalf("reconcile: %v", err)
	}
}

func (h *ctlHarness) state(t *testing.T, kind resource.Kind, name string) Status {
	t.Helper()
	st, ok := h.ctl.Status(kind, name)
	if !ok {
		t.Fatalf("no status for %s %s", kind, name)
	}
	return st
}

// routeExists reports whether the route rule→target runs: a route makes
// its RETRY consumer when it starts, and the controller deletes it when
// the route is dropped.
func (h *ctlHarness) routeExists(t *testing.T, rule, target string) bool {
	return bustest.ConsumerState(t, h.bus, bus.StreamRetry, delivery.RetryConsumerName(rule, target)).Exists
}

func target(extra map[string]any) map[string]any {
	m := map[string]any{"type": fakeType}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

// A reconcile starts targets, then the rules' routes (and hands the rules
// to the router), then sources: a source's first event is routed to a
// running target. Deleting everything stops the rule's route, and drops
// its retries, before its target stops.
func TestControllerContractReconcileOrder(t *testing.T) {
	h := newCtlHarness(t)
	fakes.mu.Lock()
	fakes.onTargetStart = func(name string) { logf("route of %s running: %v", name, h.routeExists(t, "r1", name)) }
	fakes.onTargetStop = func(name string) { logf("route of %s running: %v", name, h.routeExists(t, "r1", name)) }
	fakes.mu.Unlock()
	// Stored in the order that would be wrong, for what it is worth.
	h.put(t, resource.KindSource, "s1", map[string]any{"type": fakeType, "probe": "p1"})
	h.put(t, resource.KindRule, "r1", map[string]any{"targets": []string{"t1"}})
	h.put(t, resource.KindTarget, "t1", target(nil))
	h.reconcile(t)
	want := []string{
		"start target/t1", "route of t1 running: false",
		"start source/s1", "probe p1 delivered: true",
	}
	if got := fakeLog(); !slices.Equal(got, want) {
		t.Fatalf("reconcile did\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	for _, k := range []struct {
		kind resource.Kind
		name string
	}{{resource.KindTarget, "t1"}, {resource.KindRule, "r1"}, {resource.KindSource, "s1"}} {
		if st := h.state(t, k.kind, k.name); st.State != StateRunning {
			t.Errorf("%s %s is %s (%s), want running", k.kind, k.name, st.State, st.Error)
		}
	}

	// Nothing changed: nothing is restarted.
	h.reconcile(t)
	if got := fakeLog(); len(got) != len(want) {
		t.Errorf("a reconcile with nothing changed did %v", got[len(want):])
	}

	h.del(t, resource.KindSource, "s1")
	h.del(t, resource.KindRule, "r1")
	h.del(t, resource.KindTarget, "t1")
	h.reconcile(t)
	got := fakeLog()[len(want):]
	i := slices.Index(got, "stop target/t1")
	if i < 0 || i+1 >= len(got) || got[i+1] != "route of t1 running: false" || !slices.Contains(got, "stop source/s1") {
		t.Errorf("deleting everything did %v; want the source stopped, and the route gone before its target stopped", got)
	}
	if _, ok := h.ctl.Status(resource.KindRule, "r1"); ok {
		t.Error("a deleted rule still has a status")
	}
	if routes := h.ctl.Routes(); len(routes) != 0 {
		t.Errorf("%d routes still run", len(routes))
	}
}

// A resource whose spec is invalid, or that names what does not exist, is
// marked failed with the reason; everything else is started and works. An
// invalid new version of a running source leaves the old one running.
func TestControllerContractBadResourceFailsAlone(t *testing.T) {
	h := newCtlHarness(t)
	h.put(t, resource.KindTarget, "good", target(nil))
	h.put(t, resource.KindTarget, "bad", target(map[string]any{"bad": true}))
	h.put(t, resource.KindTarget, "unknown", map[string]any{"type": "no-such-type"})
	h.put(t, resource.KindRule, "r-bad", map[string]any{"targets": []string{"bad"}})
	h.put(t, resource.KindRule, "r-ghost", map[string]any{"targets": []string{"ghost"}})
	h.put(t, resource.KindRule, "r-good", map[string]any{"targets": []string{"good"}})
	h.put(t, resource.KindRule, "r-invalid", map[string]any{"targets": []string{}})
	h.put(t, resource.KindSource, "s1", map[string]any{"type": fakeType, "probe": "p1"})
	h.reconcile(t)

	failed := func(kind resource.Kind, name, field, reason string) {
		t.Helper()
		st := h.state(t, kind, name)
		if st.State != StateFailed || !strings.Contains(st.Error, reason) {
			t.Errorf("%s %s: %s (%q), want failed: %s", kind, name, st.State, st.Error, reason)
		}
		if field != "" && !slices.ContainsFunc(st.Problems, func(p spec.Problem) bool { return p.Path == field }) {
			t.Errorf("%s %s: problems %v, want one at %s", kind, name, st.Problems, field)
		}
	}
	failed(resource.KindTarget, "bad", "spec.bad", "must not be true")
	failed(resource.KindTarget, "unknown", "spec.type", "unknown type")
	failed(resource.KindRule, "r-bad", "", `target "bad" does not exist or its spec is invalid`)
	failed(resource.KindRule, "r-ghost", "", `target "ghost" does not exist`)
	failed(resource.KindRule, "r-invalid", "spec.targets", "at least one target")
	for _, k := range []struct {
		kind resource.Kind
		name string
	}{{resource.KindTarget, "good"}, {resource.KindRule, "r-good"}, {resource.KindSource, "s1"}} {
		if st := h.state(t, k.kind, k.name); st.State != StateRunning {
			t.Errorf("%s %s is %s (%s), want running", k.kind, k.name, st.State, st.Error)
		}
	}
	if !slices.Contains(fakeLog(), "probe p1 delivered: true") {
		t.Errorf("the good rule did not deliver: %v", fakeLog())
	}
	fakes.mu.Lock()
	_, badBuilt := fakes.targets["bad"]
	fakes.mu.Unlock()
	if badBuilt {
		t.Error("the invalid target was built")
	}
	if rts := h.ctl.Routes(); len(rts) != 1 || rts[0].Name() != "r-good/good" {
		t.Errorf("routes %v, want only r-good/good", rts)
	}

	// Fixing the bad target brings its rule up, and leaves the rest alone.
	h.put(t, resource.KindTarget, "bad", target(nil))
	h.reconcile(t)
	if st := h.state(t, resource.KindRule, "r-bad"); st.State != StateRunning {
		t.Errorf("r-bad is %s (%s) once its target is fixed, want running", st.State, st.Error)
	}
	fakes.mu.Lock()
	src := fakes.sources["s1"]
	goodStops := fakes.targets["good"].Stops()
	fakes.mu.Unlock()
	if goodStops != 0 {
		t.Errorf("the good target was stopped %d times by an unrelated change", goodStops)
	}

	// An invalid new version of the running source: failed, old one kept.
	h.put(t, resource.KindSource, "s1", map[string]any{"type": fakeType, "bad": true})
	h.reconcile(t)
	failed(resource.KindSource, "s1", "spec.bad", "must not be true")
	fakes.mu.Lock()
	stops, current := src.stops, fakes.sources["s1"]
	fakes.mu.Unlock()
	if stops != 0 || current != src {
		t.Errorf("the running source was stopped (%d) or replaced (%v) by an invalid version", stops, current != src)
	}
}
