package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/eventbridge-dev/eventbridge/bench/internal/procstat"
)

// The scale scenarios (issue 15, "How the cost grows with the work"): how
// the bridge's costs grow with the number of rules, the fan-out of one
// event, the size of the archive, the length of a run and the backlog left
// by a target outage. Unlike http and the broker scenarios they compare the
// bridge with itself (10,000 rules against 1, an archive of 1 million
// events against an empty one), run once each after the rounds, and are
// opt-in: make bench-scale.
const (
	scenRules   = "rules"
	scenFanout  = "fanout"
	scenArchive = "archive"
	scenSoak    = "soak"
	scenCatchup = "catchup"
)

var scaleScenarios = []string{scenRules, scenFanout, scenArchive, scenSoak, scenCatchup}

func isScale(scen string) bool { return slices.Contains(scaleScenarios, scen) }

func init() {
	scenarioTitles[scenRules] = "throughput, start-up and idle memory with N rules"
	scenarioTitles[scenFanout] = "one event matched by N rules to N targets"
	scenarioTitles[scenArchive] = "start-up and RSS with N archived events and a full dedup window"
	scenarioTitles[scenSoak] = "a long run at the fixed rate with retention cycling"
	scenarioTitles[scenCatchup] = "draining the backlog of a target outage"
}

// scaleReport is one scale scenario's outcome: a table, the goals
// judged against it, the floors, notes, and the raw figures.
type scaleReport struct {
	Scenario string     `json:"scenario"`
	Columns  []string   `json:"columns"`
	Rows     [][]string `json:"rows"`
	Goals    []goal     `json:"goals"`
	Floors   []floor    `json:"floors,omitempty"`
	Notes    []string   `json:"notes,omitempty"`
	Error    string     `json:"error,omitempty"`
	Data     any        `json:"data,omitempty"`
}

// goal is one of the goals: what it asks, what was measured (and
// its ratio to the scenario's baseline, when it has one), and the verdict:
// PASS, FAIL or SKIP (not measured). Like floors, goals are reported, not
// enforced.
type goal struct {
	Name     string  `json:"name"`
	Goal     string  `json:"goal"`
	Measured string  `json:"measured"`
	Value    float64 `json:"value"`
	Verdict  string  `json:"verdict"`
}

// judge returns a goal with its verdict; measured false means SKIP.
func judge(name, want string, value float64, shown string, measured, ok bool) goal {
	g := goal{Name: name, Goal: want, Measured: shown, Value: value, Verdict: "SKIP"}
	switch {
	case !measured:
		g.Measured = "not measured"
	case ok:
		g.Verdict = "PASS"
	default:
		g.Verdict = "FAIL"
	}
	return g
}

// floorOf judges a floor like a goal.
func floorOf(name string, measured, ok bool, detail string) floor {
	g := judge(name, "", 0, detail, measured, ok)
	return floor{Name: name, Verdict: g.Verdict, Detail: g.Measured}
}

// runScale runs scale scenario scen once.
func (r *runner) runScale(ctx context.Context, scen string) scaleReport {
	if r.bridgeMissing != "" || r.cfg.FakeBridge {
		why := r.bridgeMissing
		if why == "" {
			why = "--fake-bridge has no rules, archive or retries to measure"
		}
		return scaleReport{Scenario: scen, Error: "bridge unavailable: " + why}
	}
	switch scen {
	case scenRules:
		return r.runRules(ctx)
	case scenFanout:
		return r.runFanout(ctx)
	case scenArchive:
		return r.runArchive(ctx)
	case scenSoak:
		return r.runSoak(ctx)
	case scenCatchup:
		return r.runCatchup(ctx)
	}
	return scaleReport{Scenario: scen, Error: "unknown scenario"}
}

// scaleReadyTimeout is how long a scale scenario's bridge may take to be
// ready: longer than --ready-timeout, since slow start-ups are what some
// of them measure.
func (r *runner) scaleReadyTimeout() time.Duration { return max(r.cfg.ReadyTimeout, 5*time.Minute) }

// bridgeConfigFunc renders a bridge's configuration for its API port and
// the sink's URL.
type bridgeConfigFunc func(port int, sinkURL string) string

// startScaleEnv starts a fresh sink and a bridge with the configuration
// render gives, its data in dataDir, and returns them with the bridge's
// start-up time: from its start to the first 200 from GET /readyz (polled
// every 50 ms), config parse included.
func (r *runner) startScaleEnv(ctx context.Context, logDir, dataDir string, render bridgeConfigFunc) (*env, int, time.Duration, error) {
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return nil, 0, 0, err
	}
	e := &env{}
	sinkPort := 0
	var err error
	e.sink, sinkPort, err = r.startServer(ctx, "sink", logDir, r.bins.sink, 10*time.Second, func(port int) ([]string, error) {
		return []string{"--listen", fmt.Sprintf("127.0.0.1:%d", port)}, nil
	})
	if err != nil {
		return nil, 0, 0, err
	}
	sinkBase := fmt.Sprintf("http://127.0.0.1:%d", sinkPort)
	e.sinkAPI = newSinkClient(sinkBase)
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		e.close()
		return nil, 0, 0, err
	}
	cfgPath := filepath.Join(logDir, "bridge.yaml")
	start := time.Now()
	proc, port, err := r.startServer(ctx, boxBridge, logDir, r.bridgeBin, r.scaleReadyTimeout(), func(port int) ([]string, error) {
		start = time.Now() // a second attempt (port taken) starts the clock again
		return []string{"serve", "--config", cfgPath}, os.WriteFile(cfgPath, []byte(render(port, sinkBase+"/")), 0o644)
	})
	took := time.Since(start)
	if err != nil {
		e.close()
		return nil, 0, 0, err
	}
	e.box = &box{kind: boxBridge, proc: proc, bin: r.bridgeBin, ingestURL: fmt.Sprintf("http://127.0.0.1:%d/events", port)}
	return e, sinkPort, took, nil
}

// idleSettle is how long a bridge is left idle after it is ready before
// its resident memory is read.
const idleSettle = 2 * time.Second

// idleRSS waits idleSettle and returns pid's RSS and peak RSS (VmHWM).
func idleRSS(ctx context.Context, pid int) (rss, hwm uint64) {
	select {
	case <-ctx.Done():
	case <-time.After(idleSettle):
	}
	m, _ := procstat.Mem(pid)
	return m.RSS, m.HWM
}

// scaleConfig renders a bridge configuration: bus settings (extra lines
// under bus:, indented by two spaces), an HTTP source on /events, the
// given targets and rules (YAML lines indented by two spaces).
func scaleConfig(dataDir string, port int, busExtra, targets, rules string) string {
	return "bus:\n" +
		"  data_dir: " + yamlScalar(dataDir) + "\n" + busExtra +
		"api:\n" + fmt.Sprintf("  listen: 127.0.0.1:%d\n", port) +
		"sources:\n" +
		"  in: {type: http, path: /events}\n" +
		"targets:\n" + targets +
		"rules:\n" + rules
}

// sinkTarget is the targets entry of one HTTP target named name posting to url.
func sinkTarget(name, url string) string {
	return fmt.Sprintf("  %s: {type: http, url: %q, mode: binary}\n", name, url)
}

// forwardRule is the benchmark's one rule: every event the load generator
// sends, to target.
func forwardRule(name, target string) string {
	return fmt.Sprintf("  %s:\n    filter: {filters: [{prefix: {type: \"com.example.\"}}]}\n    targets: [%s]\n", name, target)
}

// printScale writes a scale scenario's table, goals, floors and notes.
func (s scaleReport) print(w io.Writer) {
	fmt.Fprintf(w, "\n-- %s: %s --\n", s.Scenario, scenarioTitles[s.Scenario])
	if s.Error != "" {
		fmt.Fprintf(w, "error: %s\n", s.Error)
	}
	if len(s.Rows) > 0 {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, strings.Join(s.Columns, "\t"))
		for _, row := range s.Rows {
			fmt.Fprintln(tw, strings.Join(row, "\t"))
		}
		tw.Flush()
	}
	if len(s.Goals) > 0 {
		fmt.Fprintln(w)
	}
	for _, g := range s.Goals {
		fmt.Fprintf(w, "goal  %-4s %s %s: %s\n", g.Verdict, g.Name, g.Goal, g.Measured)
	}
	for _, f := range s.Floors {
		fmt.Fprintf(w, "floor %-4s %s: %s\n", f.Verdict, f.Name, f.Detail)
	}
	for _, n := range s.Notes {
		fmt.Fprintf(w, "  - %s\n", strings.ReplaceAll(n, "\n", "\n    "))
	}
}

// phaseNotes returns what makes a phase's figures suspect, as report.notes
// does for the other scenarios.
func phaseNotes(who string, p *phase, cpus int) []string {
	if p == nil {
		return nil
	}
	var out []string
	l := p.Load
	if l.Errors+l.Non2xx > 0 {
		out = append(out, fmt.Sprintf("%s: %d transport errors, %d non-2xx answers (first error: %s)", who, l.Errors, l.Non2xx, l.FirstError))
	}
	if !p.Drained || p.Lost > 0 {
		out = append(out, fmt.Sprintf("%s: %d of %d accepted events had not arrived when the drain ended after %.0f s", who, p.Lost, l.OK, p.DrainSec))
	}
	if p.OtherCPUCores > noisyCores {
		out = append(out, fmt.Sprintf("%s: other processes used %.1f of %d cores: figures disturbed", who, p.OtherCPUCores, cpus))
	}
	return out
}

// mib formats bytes as MiB.
func mib(b uint64) string { return fmt.Sprintf("%.0f", float64(b)/(1<<20)) }

// countLabel writes n with thousands separators: 10,000.
func countLabel(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// tempDir makes a temporary directory for a bridge's data and returns it
// with its removal.
func tempDir() (string, func(), error) {
	dir, err := os.MkdirTemp("", "eventbridge-bench-")
	if err != nil {
		return "", func() {}, err
	}
	return dir, func() { _ = os.RemoveAll(dir) }, nil
}
