package server_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
	"github.com/eventbridge-dev/eventbridge/internal/config"
	"github.com/eventbridge-dev/eventbridge/internal/server"
)

// rulesConfig is a bridge with one HTTP source, one HTTP target and n
// rules with realistic EventBridge patterns (prefix, numeric,
// anything-but, data fields); one rule in a hundred matches type
// "order.created", the others match nothing that is sent.
func rulesConfig(n int, url string) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "sources: {in: {type: http, path: /events}}\ntargets: {out: {type: http, url: %q}}\nrules:\n", url)
	for i := range n {
		var p string
		switch {
		case i%100 == 0:
			p = `{"type": [{"prefix": "order."}], "data": {"total": [{"numeric": [">=", 0]}]}}`
		case i%4 == 0:
			p = fmt.Sprintf(`{"type": [{"prefix": "svc%d."}], "data": {"region": [{"anything-but": ["eu-%d"]}]}}`, i, i)
		case i%4 == 1:
			p = fmt.Sprintf(`{"type": ["billing.invoice.%d"], "data": {"amount": [{"numeric": [">", %d, "<=", %d]}]}}`, i, i, i*10)
		case i%4 == 2:
			p = fmt.Sprintf(`{"source": [{"prefix": "urn:app:%d"}], "data": {"status": ["failed", "error-%d"]}}`, i, i)
		default:
			p = fmt.Sprintf(`{"type": [{"anything-but": {"prefix": "order."}}], "data": {"tenant": ["t%d"], "level": [{"numeric": [">", 3]}]}}`, i)
		}
		fmt.Fprintf(&sb, "  r%05d: {targets: [out], filter: {pattern: %s}}\n", i, p)
	}
	return sb.String()
}

// startRules starts a bridge with n rules and returns it, how long Start
// took, and the heap in use after a GC.
func startRules(t testing.TB, n int) (*server.Bridge, time.Duration, uint64) {
	t.Helper()
	text := []byte(rulesConfig(n, "http://127.0.0.1:9/"))
	parseStart := time.Now()
	cfg, err := config.Parse(text)
	lastParse = time.Since(parseStart)
	if err != nil {
		t.Fatalf("config: %s", config.String(err))
	}
	cfg.Bus.DataDir = t.TempDir()
	cfg.API.Listen = "127.0.0.1:0"
	cfg.Lifecycle.Disabled = true
	b := server.New(cfg, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	start := time.Now()
	if err := b.Start(ctx); err != nil {
		t.Fatalf("start: %v", err)
	}
	took := time.Since(start)
	return b, took, heapInUse()
}

// lastParse is how long startRules took to parse its config.
var lastParse time.Duration

func heapInUse() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

func stopQuiet(b *server.Bridge) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	_ = b.Stop(ctx)
}

// retryConsumers counts the consumers of the RETRY stream.
func retryConsumers(t testing.TB, b *server.Bridge) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := b.Bus().JetStream().Stream(ctx, bus.StreamRetry)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Consumers
}

// TestRulesScale reports start-up time and heap per rule for the rule
// counts in EVENTBRIDGE_RULES_SCALE (e.g. "1,1000,10000"); it is skipped
// without it.
func TestRulesScale(t *testing.T) {
	counts := os.Getenv("EVENTBRIDGE_RULES_SCALE")
	if counts == "" {
		t.Skip("set EVENTBRIDGE_RULES_SCALE=1,1000,10000")
	}
	b, _, base := startRules(t, 1)
	stopQuiet(b)
	for _, s := range strings.Split(counts, ",") {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatal(err)
		}
		b, took, heap := startRules(t, n)
		per := (float64(heap) - float64(base)) / float64(max(n-1, 1))
		if f := os.Getenv("EVENTBRIDGE_RULES_HEAP"); f != "" {
			out, err := os.Create(f)
			if err != nil {
				t.Fatal(err)
			}
			_ = pprof.WriteHeapProfile(out)
			_ = out.Close()
		}
		t.Logf("rules=%d parse=%v start=%v heap=%.1fMiB heap/rule=%.2fKB retry_consumers=%d", n, lastParse.Round(time.Millisecond), took.Round(time.Millisecond),
			float64(heap)/(1<<20), per/1024, retryConsumers(t, b))
		stopQuiet(b)
	}
}

// TestIdleRulesStayCheap fails if rules with no traffic get expensive
// again: starting 2,000 of them creates no RETRY consumer, and the heap
// grows by far less than the ~100 KB a rule cost when every route started
// its queue, 32 workers, metric series and RETRY consumer at once.
func TestIdleRulesStayCheap(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a bridge with 2,000 rules")
	}
	const n = 2000
	b, _, base := startRules(t, 1)
	stopQuiet(b)
	b, _, heap := startRules(t, n)
	defer stopQuiet(b)
	if c := retryConsumers(t, b); c != 0 {
		t.Errorf("%d RETRY consumers after starting %d idle rules, want 0", c, n)
	}
	if routes := len(b.Controller().Routes()); routes != n {
		t.Fatalf("%d routes, want %d", routes, n)
	}
	per := (float64(heap) - float64(base)) / (n - 1)
	t.Logf("heap per idle rule: %.1f KB", per/1024)
	// About 20 KB before the matched series, loggers and config specs
	// became lazy or compact, 13 KB after (heap in use, fragmentation
	// included: the live data is about 5 KB).
	if per > 32*1024 {
		t.Errorf("heap per idle rule %.1f KB, want < 32 KB", per/1024)
	}
	// No rule has a series, a route or worker before its first event.
	families, err := b.Metrics().Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		switch f.GetName() {
		case "eventbridge_rule_matched_total", "eventbridge_deliveries_total", "eventbridge_delivery_attempt_seconds":
			if len(f.GetMetric()) > 0 {
				t.Errorf("%d series of %s before any event", len(f.GetMetric()), f.GetName())
			}
		}
	}
	for _, rt := range b.Controller().Routes() {
		if rt.Active() {
			t.Fatalf("route %s active before any event", rt.Name())
		}
	}
}
