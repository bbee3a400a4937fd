package main

import "fmt"

// Floors the bridge is held to. They are reported, not enforced: the run
// exits 0 whatever they say.
const (
	floorSatRatio = 0.5 // bridge saturation ≥ 0.5 × forwarder
	floorP99MS    = 5.0 // bridge e2e p99 at the fixed rate ≤ 5 ms
	floorRSSMiB   = 150 // bridge peak RSS ≤ 150 MiB
)

// Floors of the scale scenarios (scale*.go), only for figures met on the
// project's busy 2-core machine in December 2026 (short runs, bench/README.md):
// at the goal where it was met with room to spare (fan-out, catch-up,
// archive start-up),
// below it where it is not met (throughput with 10,000 rules: 0.30× 1 rule
// on a quiet machine before the third pass, 0.34× after, against 0.8: the
// floor at 0.25 guarded against a fall; with the soft memory limit's room for
// a busy bridge, 1.04–1.90× in two ABBA runs on a busy machine, 0.49–1.28× in
// others: the floor at 0.6, below the goal because the ratio swings with the
// load (one disturbed run measured 0.49); memory per idle rule: 28 KB against
// 5, then 9–10 KB once idle rules got cheaper: the floor at 32). The soak's goals and
// the archive's RSS are not met: no floor.
const (
	floorRulesSatRatio   = 0.6  // throughput with the most rules ≥ 0.6 × 1 rule (goal 0.8; 1.04–1.90 in ABBA runs, 0.24–0.66 before)
	floorRulesPerRuleKB  = 32.0 // idle RSS per rule ≤ 32 KB (goal 5)
	floorFanoutCPURatio  = 1.5  // CPU per delivery at 100 → 100 ≤ 1.5 × 1 → 1 (the goal)
	floorArchiveStartupS = 2.0  // start-up with a full archive ≤ 2 s (the goal; 0.20 s at 1 million)
	floorCatchupRatio    = 0.8  // backlog drain ≥ 0.8 × saturation (the goal)
)

// floor is one floor's verdict: PASS, FAIL or SKIP (not measured).
type floor struct {
	Name    string `json:"name"`
	Verdict string `json:"verdict"`
	Detail  string `json:"detail"`
}

// checkFloors judges the bridge's figures. Throughput and latency are
// judged on the median over rounds, memory on the highest peak.
func checkFloors(bridge boxSummary, ratio spread, rate float64) []floor {
	verdict := func(ok bool) string {
		if ok {
			return "PASS"
		}
		return "FAIL"
	}
	fs := []floor{
		{Name: fmt.Sprintf("bridge saturation ≥ %.1f× forwarder", floorSatRatio)},
		{Name: fmt.Sprintf("bridge e2e p99 at %g/s ≤ %g ms", rate, floorP99MS)},
		{Name: fmt.Sprintf("bridge peak RSS ≤ %d MiB", floorRSSMiB)},
	}
	judge := func(f *floor, s spread, ok func(float64) bool, unit string, v float64) {
		if s.N == 0 {
			f.Verdict, f.Detail = "SKIP", "not measured"
			return
		}
		f.Verdict = verdict(ok(v))
		f.Detail = fmt.Sprintf("%.2f%s (range %.2f–%.2f over %d)", v, unit, s.Min, s.Max, s.N)
	}
	judge(&fs[0], ratio, func(v float64) bool { return v >= floorSatRatio }, "×", ratio.Median)
	judge(&fs[1], bridge.P99, func(v float64) bool { return v <= floorP99MS }, " ms", bridge.P99.Median)
	judge(&fs[2], bridge.PeakRSSMiB, func(v float64) bool { return v <= floorRSSMiB }, " MiB", bridge.PeakRSSMiB.Max)
	return fs
}
