package main

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventbridge-dev/eventbridge/bench/internal/loadgen"
	ebconfig "github.com/eventbridge-dev/eventbridge/internal/config"
	"github.com/eventbridge-dev/eventbridge/internal/filter"
)

// benchEventInput is the event the load generator sends, as a filter sees it.
func benchEventInput(t *testing.T) *filter.Input {
	t.Helper()
	e := ce.New()
	e.SetID("x-1")
	e.SetSource(loadgen.DefaultSource)
	e.SetType(loadgen.DefaultType)
	e.SetTime(time.Now())
	// As the HTTP source stores a binary-mode JSON body: data, not base64.
	e.SetDataContentType("application/json")
	e.DataEncoded = loadgen.Body
	return filter.NewInput(&e)
}

// matching parses a generated configuration and returns its rule count
// and the names of the rules that match the load generator's event.
func matching(t *testing.T, text string) (int, []string) {
	t.Helper()
	cfg, err := ebconfig.Parse([]byte(text))
	if err != nil {
		t.Fatalf("generated config does not parse: %s\n%s", ebconfig.String(err), text[:min(len(text), 2000)])
	}
	in := benchEventInput(t)
	var names []string
	for name, r := range cfg.Rules {
		f, err := filter.Compile(r.Filter)
		if err != nil {
			t.Fatalf("rule %s: %v", name, err)
		}
		if f.Match(in) {
			names = append(names, name)
		}
	}
	return len(cfg.Rules), names
}

func TestRulesConfigOneMatchOnePercentNearMisses(t *testing.T) {
	for _, n := range []int{1, 100, 400} {
		text := scaleConfig(t.TempDir(), 8080, "", sinkTarget("sink", "http://127.0.0.1:9/"), rulesYAML(n, "sink"))
		got, names := matching(t, text)
		if got != n {
			t.Errorf("%d rules: config has %d", n, got)
		}
		if len(names) != 1 || names[0] != "r00000" {
			t.Errorf("%d rules: %v match the bench event, want only r00000", n, names)
		}
		// 1% of the rules select the event's type: the matching one and
		// the near misses.
		if sel := strings.Count(text, `[{"prefix": "com.example.`); sel != max(n/100, 1) {
			t.Errorf("%d rules: %d select the event's type, want %d", n, sel, max(n/100, 1))
		}
	}
}

func TestFanoutConfigEveryRuleMatches(t *testing.T) {
	targets, rules := fanoutYAML(50, "http://127.0.0.1:9/")
	text := scaleConfig(t.TempDir(), 8080, archiveBus(1000), targets, rules)
	n, names := matching(t, text)
	if n != 50 || len(names) != 50 {
		t.Fatalf("%d rules, %d match; want 50 and 50", n, len(names))
	}
	cfg, _ := ebconfig.Parse([]byte(text))
	if len(cfg.Targets) != 50 {
		t.Fatalf("%d targets, want 50", len(cfg.Targets))
	}
}

func TestTrend(t *testing.T) {
	var pts []rssPoint
	for i := range 31 { // 30 minutes, 2 MiB per minute from 100 MiB, after a warm-up spike
		rss := uint64(100+2*i) << 20
		if i == 0 {
			rss = 300 << 20
		}
		pts = append(pts, rssPoint{T: float64(60 * i), RSS: rss})
	}
	if got := trendMiBPerMin(pts, 60); math.Abs(got-2) > 1e-9 {
		t.Fatalf("trend = %v MiB/min, want 2", got)
	}
	if got := trendMiBPerMin(pts, 0); got >= 2 {
		t.Fatalf("trend with the warm-up spike = %v, want below 2", got)
	}
	flat := []rssPoint{{0, 50 << 20}, {10, 52 << 20}, {20, 50 << 20}, {30, 52 << 20}, {40, 50 << 20}}
	if got := trendMiBPerMin(flat, 0); math.Abs(got) > 0.5 {
		t.Fatalf("flat series trend = %v", got)
	}
	if trendMiBPerMin(pts[:1], 0) != 0 || trendMiBPerMin(nil, 0) != 0 {
		t.Fatal("trend of fewer than two points is not 0")
	}
	if soakWindow(30*time.Minute) != time.Minute || soakWindow(90*time.Second) != 30*time.Second {
		t.Fatal("soak window")
	}
}

func TestCountsAndBaseline(t *testing.T) {
	if got := withBaseline([]int{10000, 100, 1, 100}, 1); !equalInts(got, []int{1, 100, 10000}) {
		t.Fatalf("withBaseline = %v", got)
	}
	if got := withBaseline([]int{5}, 0); !equalInts(got, []int{0, 5}) {
		t.Fatalf("withBaseline = %v", got)
	}
	if _, err := parseCounts("1,x"); err == nil {
		t.Fatal("parseCounts accepted x")
	}
	if _, err := parseCounts("0"); err == nil {
		t.Fatal("parseCounts accepted 0")
	}
	if got, _ := parseCounts(" 100, 1000 "); !equalInts(got, []int{100, 1000}) {
		t.Fatalf("parseCounts = %v", got)
	}
	if countLabel(10000000) != "10,000,000" || countLabel(100) != "100" {
		t.Fatal("countLabel")
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestScaleFlags(t *testing.T) {
	c, err := parseFlags([]string{"--quick", "--scenarios", "rules,soak", "--rules-counts", "1,10"})
	if err != nil {
		t.Fatal(err)
	}
	if c.SoakDuration != 3*time.Minute || c.CatchupOutage != 10*time.Second || !equalInts(c.ArchiveEvents, []int{100000}) || !equalInts(c.RulesCounts, []int{1, 10}) {
		t.Fatalf("quick scale preset not applied: %+v", c)
	}
	if _, err := parseFlags([]string{"--scenarios", "rules", "--fanout-sizes", "1,000"}); err == nil {
		t.Fatal("--fanout-sizes 1,000 accepted (0 is not a size)")
	}
	if _, err := parseFlags([]string{"--scenarios", "soaks"}); err == nil {
		t.Fatal("unknown scenario accepted")
	}
}

func TestSoakBus(t *testing.T) {
	for _, tc := range []struct {
		maxAge time.Duration
		window string
	}{{2 * time.Minute, ""}, {time.Minute, "1m0s"}} {
		text := scaleConfig(t.TempDir(), 8080, soakBus(tc.maxAge), sinkTarget("sink", "http://127.0.0.1:9/"), forwardRule("forward", "sink"))
		cfg, err := ebconfig.Parse([]byte(text))
		if err != nil {
			t.Fatalf("max_age %v: %s", tc.maxAge, ebconfig.String(err))
		}
		if got := cfg.Bus.Archive.MaxAge.D(); got != tc.maxAge {
			t.Errorf("archive max_age = %v, want %v", got, tc.maxAge)
		}
		if strings.Contains(text, "dedup_window") != (tc.window != "") {
			t.Errorf("max_age %v: dedup_window in config = %v", tc.maxAge, strings.Contains(text, "dedup_window"))
		}
	}
}

func TestKeysLoaded(t *testing.T) {
	text := `time=2026-12-07T17:00:00Z level=INFO msg="dedup keys loaded" from_snapshot=240000 from_archive=1875 window=2m0s took=310ms`
	if got := keysLoaded("start\n" + text + "\n"); got != "240000 + 1875" {
		t.Fatalf("keysLoaded = %q", got)
	}
	js := `{"level":"INFO","msg":"dedup keys loaded","from_snapshot":12,"from_archive":0}`
	if got := keysLoaded(js); got != "12 + 0" {
		t.Fatalf("keysLoaded (JSON) = %q", got)
	}
	if keysLoaded("nothing") != "" {
		t.Fatal("keysLoaded found a line that is not there")
	}
}

func TestScaleGoalsAndSummary(t *testing.T) {
	sat := func(rate, cpu float64) *phase { return &phase{DeliveredRate: rate, CPUPerEventUS: cpu} }
	runs := []rulesRun{
		{Rules: 1, StartupS: 0.1, Sat: sat(7000, 100), RatioTo1: 1},
		{Rules: 10000, StartupS: 1.5, PerRuleKB: 17, Sat: sat(6300, 110), RatioTo1: 0.9},
	}
	gs, fs := rulesGoals(runs)
	want := []string{"PASS", "FAIL", "FAIL"}
	for i, g := range gs {
		if g.Verdict != want[i] {
			t.Errorf("goal %s %s = %s (%s), want %s", g.Name, g.Goal, g.Verdict, g.Measured, want[i])
		}
	}
	if !strings.Contains(gs[1].Name, "10,000 rules") {
		t.Errorf("goal name %q does not say at how many rules", gs[1].Name)
	}
	for _, f := range fs {
		if f.Verdict != "PASS" {
			t.Errorf("floor %s = %s", f.Name, f.Verdict)
		}
	}
	if gs, _ := rulesGoals(runs[:1]); gs[0].Verdict != "SKIP" {
		t.Errorf("goal without many rules = %s, want SKIP", gs[0].Verdict)
	}

	fr := []fanoutRun{{Fanout: 1, Phase: sat(5000, 150)}, {Fanout: 100, Phase: sat(4000, 300), CPURatio: 2}, {Fanout: 1000, Phase: sat(4000, 150), CPURatio: 1}}
	fg, ff := fanoutGoals(fr)
	if len(fg) != 2 || fg[0].Verdict != "FAIL" || fg[1].Verdict != "PASS" || len(ff) != 2 || ff[0].Verdict != "FAIL" || ff[1].Verdict != "PASS" {
		t.Errorf("fanout goals %+v floors %+v", fg, ff)
	}
	ag, _ := archiveGoals([]archiveRun{{Events: 0, StartupS: 0.2}, {Events: 1000000, StartupS: 1.2, RSSRatio: 1.3}, {Events: 10, Error: "boom"}})
	if len(ag) != 4 || ag[0].Verdict != "PASS" || ag[1].Verdict != "FAIL" || ag[2].Verdict != "SKIP" || ag[3].Verdict != "SKIP" {
		t.Errorf("archive goals %+v", ag)
	}

	rep := scaleReport{Scenario: scenRules, Columns: []string{"rules", "start-up"}, Rows: [][]string{{"1", "0.10 s"}}, Goals: gs, Floors: fs, Notes: []string{"disturbed"}}
	var buf bytes.Buffer
	rep.print(&buf)
	out := buf.String()
	for _, s := range []string{"-- rules:", "start-up", "goal  PASS throughput at 10,000 rules ≥ 0.8× 1 rule: 0.90×", "goal  FAIL start-up at 10,000 rules ≤ 1 s: 1.50 s", "floor PASS", "  - disturbed"} {
		if !strings.Contains(out, s) {
			t.Errorf("report lacks %q:\n%s", s, out)
		}
	}
}
