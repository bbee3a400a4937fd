package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/config"
	"github.com/eventbridge-dev/eventbridge/internal/server"
)

// TestFileRulesStartOnce fails if the start does the config file's rules
// twice: the controller runs each rule as the parse decoded, validated and
// compiled it (the same spec, not a second decode of the stored JSON), and
// a restart on the same store with the same file writes nothing to it (no
// KV write per rule at each start).
func TestFileRulesStartOnce(t *testing.T) {
	const n = 600 // enough for the chunked parse of the rules section
	text := []byte(rulesConfig(n, "http://127.0.0.1:9/"))
	dir := t.TempDir()
	start := func() (*server.Bridge, *config.Config) {
		cfg, err := config.Parse(text)
		if err != nil {
			t.Fatalf("config: %s", config.String(err))
		}
		cfg.Bus.DataDir = dir
		cfg.API.Listen = "127.0.0.1:0"
		cfg.Lifecycle.Disabled = true
		b := server.New(cfg, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
		defer cancel()
		if err := b.Start(ctx); err != nil {
			t.Fatalf("start: %v", err)
		}
		return b, cfg
	}
	lastRevision := func(b *server.Bridge) uint64 {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		rev, err := b.Store().LastRevision(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return rev
	}

	b, cfg := start()
	for _, name := range []string{"r00000", "r00001", "r00599"} {
		spec, routes, ok := b.Controller().Rule(name)
		if !ok || len(routes) != 1 {
			stopQuiet(b)
			t.Fatalf("rule %s: running %v, %d routes", name, ok, len(routes))
		}
		// A copy of the parse's spec: the same targets slice.
		if want := cfg.Rules[name]; len(spec.Targets) != 1 || len(want.Targets) != 1 || &spec.Targets[0] != &want.Targets[0] {
			t.Errorf("rule %s: the controller decoded its spec again instead of taking the parse's", name)
		}
	}
	first := lastRevision(b)
	if first < n {
		t.Errorf("store revision %d after the first start, want ≥ %d (one write per resource)", first, n)
	}
	stopQuiet(b)

	b, _ = start()
	defer stopQuiet(b)
	if rev := lastRevision(b); rev != first {
		t.Errorf("a restart with the same file wrote %d times to the store, want 0", rev-first)
	}
	if _, routes, ok := b.Controller().Rule("r00042"); !ok || len(routes) != 1 {
		t.Errorf("rule r00042 not running after the restart")
	}
}
