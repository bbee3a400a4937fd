package jobstest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
	"github.com/eventbridge-dev/eventbridge/internal/jobs"
	"github.com/eventbridge-dev/eventbridge/internal/netguard"
	"github.com/eventbridge-dev/eventbridge/internal/resource"
)

// StartManager starts a scheduler on clock (nil: the wall clock) and
// state (nil: in memory), with no leases; it is stopped when the test
// ends (or earlier, with the returned func).
func StartManager(t testing.TB, clock jobs.Clock, state jobs.Store) (*jobs.Manager, func()) {
	t.Helper()
	m := jobs.New(jobs.Config{Workers: 4}, jobs.Deps{Instance: "test", Clock: clock, State: state})
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = m.Stop(ctx)
	}
	t.Cleanup(stop)
	return m, stop
}

// StartSource builds a source from its JSON config with the scheduler m
// and the ingester ing, and starts it; it is stopped when the test ends
// (or earlier, with the returned func).
func StartSource(t testing.TB, m jobs.Scheduler, name, cfgJSON string, ing connector.Ingester) (connector.Source, func()) {
	t.Helper()
	return StartGuardedSource(t, m, name, cfgJSON, ing, nil)
}

// StartGuardedSource is StartSource with connector.Deps.Guard set to
// guard, as for a source created through the API.
func StartGuardedSource(t testing.TB, m jobs.Scheduler, name, cfgJSON string, ing connector.Ingester, guard *netguard.Guard) (connector.Source, func()) {
	t.Helper()
	cfg, err := resource.DecodeConnector(resource.KindSource, json.RawMessage(cfgJSON), "source")
	if err != nil {
		t.Fatalf("source config: %v", err)
	}
	typ, _ := connector.LookupSource(cfg.Base().Type)
	deps := connectortest.Deps(ing)
	deps.Jobs, deps.Guard = m, guard
	s, err := typ.New(name, cfg, deps)
	if err != nil {
		t.Fatalf("new source: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Start(ctx); err != nil {
		t.Fatalf("start source: %v", err)
	}
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.Stop(ctx)
	}
	t.Cleanup(stop)
	return s, stop
}

// Advance waits until the scheduler sleeps, then moves the clock by d.
func Advance(t testing.TB, c *Clock, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for c.Sleepers() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the scheduler does not sleep")
		}
		time.Sleep(time.Millisecond)
	}
	c.Advance(d)
}
