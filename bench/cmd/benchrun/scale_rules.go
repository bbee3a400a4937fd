package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/eventbridge-dev/eventbridge/bench/internal/procstat"
)

// rulesYAML renders n rules with realistic EventBridge patterns, each with
// target: rule 0 matches every event the load generator sends (type
// com.example.order.created, data.total 45.47, data.region eu-west-1); one
// rule in a hundred also selects that type but misses on a data field (so
// the matcher goes past the type for 1% of the rules); the others use
// prefix, numeric, anything-but and data-field patterns on other types and
// sources, and match nothing that is sent. Every event is delivered once,
// whatever n, so throughputs compare.
func rulesYAML(n int, target string) string {
	var sb strings.Builder
	for i := range n {
		var p string
		switch {
		case i == 0:
			p = `{"type": [{"prefix": "com.example."}], "data": {"total": [{"numeric": [">=", 0]}]}}`
		case i%100 == 0:
			p = fmt.Sprintf(`{"type": [{"prefix": "com.example.order."}], "data": {"region": [{"anything-but": ["eu-west-1"]}], "total": [{"numeric": [">", %d]}]}}`, i)
		case i%4 == 0:
			p = fmt.Sprintf(`{"type": [{"prefix": "svc%d."}], "data": {"region": [{"anything-but": ["eu-%d"]}]}}`, i, i)
		case i%4 == 1:
			p = fmt.Sprintf(`{"type": ["billing.invoice.%d"], "data": {"amount": [{"numeric": [">", %d, "<=", %d]}]}}`, i, i, i*10)
		case i%4 == 2:
			p = fmt.Sprintf(`{"source": [{"prefix": "urn:app:%d"}], "data": {"status": ["failed", "error-%d"]}}`, i, i)
		default:
			p = fmt.Sprintf(`{"type": [{"anything-but": {"prefix": "com.example."}}], "data": {"tenant": ["t%d"], "level": [{"numeric": [">", 3]}]}}`, i)
		}
		fmt.Fprintf(&sb, "  r%05d: {targets: [%s], filter: {pattern: %s}}\n", i, target, p)
	}
	return sb.String()
}

// rulesRun is the rules scenario's figures for one rule count.
type rulesRun struct {
	Rules     int     `json:"rules"`
	StartupS  float64 `json:"startup_s"`
	IdleRSS   uint64  `json:"idle_rss_bytes"`
	PeakRSS   uint64  `json:"peak_rss_bytes"`
	PerRuleKB float64 `json:"idle_rss_per_rule_kb"` // (idle RSS − 1 rule's) / (rules − 1)
	Sat       *phase  `json:"saturation,omitempty"`
	RatioTo1  float64 `json:"sat_ratio_to_1_rule"`
	Error     string  `json:"error,omitempty"`
}

// runRules starts the bridge with each rule count of --rules-counts (1
// first, as the baseline), times its start-up, reads its idle RSS, then
// loads it at saturation.
func (r *runner) runRules(ctx context.Context) scaleReport {
	rep := scaleReport{Scenario: scenRules, Columns: []string{"rules", "start-up to ready", "idle RSS MiB",
		"idle RSS per rule KB", "delivered ev/s (sat)", "ratio to 1 rule", "CPU µs/ev (sat)", "peak RSS MiB"}}
	counts := withBaseline(r.cfg.RulesCounts, 1)
	var runs []rulesRun
	for _, n := range counts {
		if ctx.Err() != nil {
			break
		}
		run := r.rulesOnce(ctx, n)
		if len(runs) > 0 && runs[0].Rules == 1 && runs[0].IdleRSS > 0 && run.IdleRSS > 0 && n > 1 {
			run.PerRuleKB = (float64(run.IdleRSS) - float64(runs[0].IdleRSS)) / float64(n-1) / 1024
		}
		if len(runs) > 0 && runs[0].Sat != nil && run.Sat != nil && runs[0].Sat.DeliveredRate > 0 {
			run.RatioTo1 = run.Sat.DeliveredRate / runs[0].Sat.DeliveredRate
		}
		if n == 1 && run.Sat != nil {
			run.RatioTo1 = 1
		}
		runs = append(runs, run)
		fmt.Printf("  rules %6d: %s\n", n, rulesLine(run))
	}
	for _, run := range runs {
		who := fmt.Sprintf("%s rules", countLabel(run.Rules))
		if run.Error != "" {
			rep.Notes = append(rep.Notes, who+": "+run.Error)
			rep.Rows = append(rep.Rows, []string{countLabel(run.Rules), "error: " + firstLine(run.Error)})
			continue
		}
		row := []string{countLabel(run.Rules), fmt.Sprintf("%.2f s", run.StartupS), mib(run.IdleRSS), "—", "—", "—", "—", mib(run.PeakRSS)}
		if run.Rules > 1 && run.PerRuleKB != 0 {
			row[3] = fmt.Sprintf("%.1f", run.PerRuleKB)
		}
		if p := run.Sat; p != nil {
			row[4], row[6] = fmtRate(p.DeliveredRate), fmtUS(p.CPUPerEventUS)
			if run.RatioTo1 > 0 {
				row[5] = fmt.Sprintf("%.2f", run.RatioTo1)
			}
			rep.Notes = append(rep.Notes, phaseNotes(who+" saturation", p, readMachine().CPUs)...)
		}
		rep.Rows = append(rep.Rows, row)
	}
	rep.Goals, rep.Floors = rulesGoals(runs)
	rep.Data = runs
	return rep
}

// rulesGoals judges the goals on the largest rule count measured.
func rulesGoals(runs []rulesRun) ([]goal, []floor) {
	var top *rulesRun
	for i := range runs {
		if runs[i].Error == "" && runs[i].Rules > 1 && (top == nil || runs[i].Rules > top.Rules) {
			top = &runs[i]
		}
	}
	if top == nil {
		return []goal{
			judge("throughput with many rules", "≥ 0.8× 1 rule", 0, "", false, false),
			judge("start-up with many rules", "≤ 1 s", 0, "", false, false),
			judge("memory per idle rule", "≤ 5 KB", 0, "", false, false),
		}, nil
	}
	at := " at " + countLabel(top.Rules) + " rules"
	gs := []goal{
		judge("throughput"+at, "≥ 0.8× 1 rule", top.RatioTo1, fmt.Sprintf("%.2f×", top.RatioTo1), top.RatioTo1 > 0, top.RatioTo1 >= 0.8),
		judge("start-up"+at, "≤ 1 s", top.StartupS, fmt.Sprintf("%.2f s", top.StartupS), true, top.StartupS <= 1),
		judge("memory per idle rule"+at, "≤ 5 KB", top.PerRuleKB, fmt.Sprintf("%.1f KB (RSS delta / rules)", top.PerRuleKB), top.PerRuleKB != 0, top.PerRuleKB <= 5),
	}
	fs := []floor{
		floorOf(fmt.Sprintf("throughput%s ≥ %.1f× 1 rule", at, floorRulesSatRatio), top.RatioTo1 > 0, top.RatioTo1 >= floorRulesSatRatio, fmt.Sprintf("%.2f×", top.RatioTo1)),
		floorOf(fmt.Sprintf("memory per idle rule%s ≤ %g KB", at, floorRulesPerRuleKB), top.PerRuleKB != 0, top.PerRuleKB <= floorRulesPerRuleKB, fmt.Sprintf("%.1f KB", top.PerRuleKB)),
	}
	return gs, fs
}

func rulesLine(run rulesRun) string {
	if run.Error != "" {
		return "error: " + firstLine(run.Error)
	}
	s := fmt.Sprintf("start-up %.2f s, idle RSS %s MiB", run.StartupS, mib(run.IdleRSS))
	if run.Sat != nil {
		s += fmt.Sprintf(", sat %.0f ev/s delivered (%.2f× 1 rule)", run.Sat.DeliveredRate, run.RatioTo1)
	}
	return s
}

// rulesOnce measures the bridge with n rules.
func (r *runner) rulesOnce(ctx context.Context, n int) rulesRun {
	run := rulesRun{Rules: n}
	logDir := filepath.Join(r.runDir, fmt.Sprintf("rules-%d", n))
	r.waitQuiet(ctx)
	tmp, cleanup, err := tempDir()
	if err != nil {
		run.Error = err.Error()
		return run
	}
	defer cleanup()
	dataDir := filepath.Join(tmp, "data")
	profiling := r.cfg.ProfileDir != ""
	var pprofURL string
	e, _, took, err := r.startScaleEnv(ctx, logDir, dataDir, func(port int, sinkURL string) string {
		cfg := scaleConfig(dataDir, port, "", sinkTarget("sink", sinkURL), rulesYAML(n, "sink"))
		if profiling {
			listen := fmt.Sprintf("  listen: 127.0.0.1:%d\n", port)
			cfg = strings.Replace(cfg, listen, listen+"  pprof: true\n", 1)
			pprofURL = fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/", port)
		}
		return cfg
	})
	if err != nil {
		run.Error = err.Error()
		return run
	}
	defer e.close()
	run.StartupS = took.Seconds()
	run.IdleRSS, _ = idleRSS(ctx, e.box.proc.pid())
	sampler := procstat.StartSampler(e.box.proc.pid(), r.cfg.SampleEvery)
	if _, err := r.measure(ctx, e, scenSaturation, r.cfg.Warmup); err != nil {
		run.Error = "saturation warm-up: " + err.Error()
	} else if run.Sat, err = r.measure(ctx, e, scenSaturation, r.cfg.SatDuration); err != nil {
		run.Error = "saturation: " + err.Error()
	}
	run.PeakRSS = sampler.Stop()
	if m, err := procstat.Mem(e.box.proc.pid()); err == nil {
		run.PeakRSS = max(run.PeakRSS, m.HWM)
	}
	if profiling && run.Error == "" {
		// After the measured phases, so the profiler does not touch them.
		e.box.pprofURL = pprofURL
		if _, err := r.profileEnv(ctx, e, fmt.Sprintf("bridge-rules-%d", n), os.Stdout); err != nil {
			fmt.Printf("  rules %6d: profile: %v\n", n, err)
		}
	}
	return run
}

// withBaseline returns counts sorted, with base first, once.
func withBaseline(counts []int, base int) []int {
	out := []int{base}
	for _, n := range counts {
		if n != base && n > 0 {
			out = append(out, n)
		}
	}
	slices.Sort(out[1:])
	return slices.Compact(out)
}
