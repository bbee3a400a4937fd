package router

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
	"github.com/eventbridge-dev/eventbridge/internal/delivery"
	"github.com/eventbridge-dev/eventbridge/internal/filter"
	"github.com/eventbridge-dev/eventbridge/internal/filter/filtertest"
	"github.com/eventbridge-dev/eventbridge/internal/telemetry"
)

// BenchmarkRouterMatchScale is the router's per-event work before the
// routes (match, the rules' source checks, the matched counter, the routes
// gathered) with 1 and 10,000 rules shaped as bench's rules scenario
// (filtertest.ScalePatterns), for the event the bench sends, which
// matches rule 0 only. Its ratio is what the rules scenario's goal asks of
// the whole path (≥ 0.8× the throughput of 1 rule).
func BenchmarkRouterMatchScale(b *testing.B) {
	for _, n := range []int{1, 10000} {
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			r := &Router{cfg: Config{Metrics: telemetry.NewMetrics()}, work: new(bus.Bus).Work()}
			rules := make([]Rule, n)
			for i, src := range filtertest.ScalePatterns(n) {
				var p map[string]any
				if err := json.Unmarshal([]byte(src), &p); err != nil {
					b.Fatal(err)
				}
				// One route each; the benchmark does not enqueue, so none is made.
				rules[i] = Rule{Name: fmt.Sprintf("r%05d", i), Filter: filter.Spec{Pattern: p}, Routes: []*delivery.Route{nil}}
			}
			if err := r.SetRules(context.Background(), rules); err != nil {
				b.Fatal(err)
			}
			ev := filtertest.ScaleEvent("x")
			var idx []int
			var routes []*delivery.Route
			b.ReportAllocs()
			for b.Loop() {
				r.mu.RLock()
				idx, routes = r.matchLocked(ev, "in", idx[:0], routes[:0])
				r.mu.RUnlock()
			}
			if len(idx) != 1 || idx[0] != 0 || len(routes) != 1 {
				b.Fatalf("matched %v", idx)
			}
		})
	}
}
