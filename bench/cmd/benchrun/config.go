package main

import (
	"errors"
	"flag"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Middlebox names.
const (
	boxNone      = "none"
	boxForwarder = "forwarder"
	boxBridge    = "bridge"
)

// Load names (--loads): the two shapes of load every scenario runs.
const (
	scenSaturation = "saturation"
	scenFixed      = "fixed"
)

// Scenario names (--scenarios): which path is measured. "http" is HTTP in →
// rule → HTTP out with the none, forwarder and bridge middleboxes; the
// broker scenarios (brokers.go) compare boxDirect with the bridge.
const (
	scenHTTP  = "http"
	scenNATS  = "nats"
	scenMQTT  = "mqtt"
	scenKafka = "kafka"
	// scenCluster is HTTP → rule → HTTP on a 3-node NATS cluster, one
	// replica against three (cluster.go).
	scenCluster = "cluster"
	boxDirect   = "direct"
)

var allScenarios = []string{scenHTTP, scenNATS, scenMQTT, scenKafka, scenCluster}

// config is everything a run is told by its flags.
type config struct {
	BridgeBin   string
	FakeBridge  bool
	Middleboxes []string
	Scenarios   []string // http, nats, mqtt, kafka, cluster
	Loads       []string // saturation, fixed
	Rounds      int

	Warmup        time.Duration // before saturation
	SatDuration   time.Duration // saturation measurement
	Concurrency   int           // saturation clients
	FixedWarmup   time.Duration // at the fixed rate, before measuring
	FixedDuration time.Duration // fixed-rate measurement
	Rate          float64
	Workers       int // open-loop sending workers
	// Window bounds the events in flight (published, not yet at the
	// consumer) at saturation in the broker scenarios.
	Window    int
	Mosquitto string // the mosquitto binary

	ReadyTimeout time.Duration
	DrainTimeout time.Duration
	// DrainQuiet is how long the count may stay still, with events still
	// missing, before the runner stops waiting for them.
	DrainQuiet time.Duration

	ProfileDir     string
	ProfileSeconds int
	ResultsDir     string
	BinDir         string
	Quick          bool
	SampleEvery    time.Duration
	QuietWait      time.Duration

	// The scale scenarios (scale.go).
	RulesCounts       []int         // rules: rule counts (1 is always run, as the baseline)
	FanoutSizes       []int         // fanout: rules → targets per event (1 is always run)
	FanoutDemand      float64       // fanout: deliveries per second asked for
	ArchiveEvents     []int         // archive: archived events (0, the empty bus, is always run)
	ArchiveWindowKeys int           // archive: keys in the dedup window
	SoakDuration      time.Duration // soak: length of the run
	SoakArchiveMaxAge time.Duration // soak: archive.max_age, short so that retention cycles
	SoakEvery         time.Duration // soak: RSS sampling period
	CatchupOutage     time.Duration // catchup: how long the target is down

	// Flags holds every flag's effective value, for the results file.
	Flags map[string]string
}

// quickPreset is what --quick sets: about 2 minutes for every scenario.
var quickPreset = map[string]string{
	"rounds":          "1",
	"warmup":          "500ms",
	"sat-duration":    "3s",
	"fixed-warmup":    "500ms",
	"fixed-duration":  "3s",
	"profile-seconds": "3",
	"quiet-wait":      "5s",
	// The scale scenarios, when chosen: smaller and shorter.
	"archive-events": "100000",
	"soak-duration":  "3m",
	"soak-every":     "1s",
	"catchup-outage": "10s",
}

// parseFlags reads the command line. --quick changes the defaults of the
// duration and round flags; flags given explicitly still win.
func parseFlags(args []string) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("benchrun", flag.ContinueOnError)
	fs.StringVar(&c.BridgeBin, "bridge-bin", "bin/eventbridge", "eventbridge binary, started as `serve --config FILE`")
	fs.BoolVar(&c.FakeBridge, "fake-bridge", false, "run the forwarder in the bridge's place (to test the runner)")
	boxes := fs.String("middleboxes", "none,forwarder,bridge", "comma-separated middleboxes of the http scenario; without bridge, no scenario runs the bridge")
	scens := fs.String("scenarios", strings.Join(allScenarios, ","), "comma-separated scenarios: http, nats, mqtt, kafka, cluster; and the opt-in scale scenarios rules, fanout, archive, soak, catchup (bench/README.md)")
	rules := fs.String("rules-counts", "1,100,1000,10000", "rules scenario: rule counts, 1% of them selecting the events' type, one matching")
	fanout := fs.String("fanout-sizes", "100", "fanout scenario: rules (each with a target of its own) matching every event; 1 always runs as the baseline (issue 16: 100,1000)")
	fs.Float64Var(&c.FanoutDemand, "fanout-demand", 20000, "fanout scenario: deliveries per second asked for (events/s × fan-out), more than the bridge delivers")
	archive := fs.String("archive-events", "1000000,10000000", "archive scenario: archived event counts (the empty bus always runs)")
	fs.IntVar(&c.ArchiveWindowKeys, "archive-window-keys", 240000, "archive scenario: keys in the dedup window (2 minutes at 2,000 events/s)")
	fs.DurationVar(&c.SoakDuration, "soak-duration", 30*time.Minute, "soak scenario: how long it runs at --rate")
	fs.DurationVar(&c.SoakArchiveMaxAge, "soak-archive-max-age", 2*time.Minute, "soak scenario: the archive's max_age, short so that retention cycles (below 2m the dedup window is cut to it)")
	fs.DurationVar(&c.SoakEvery, "soak-every", 5*time.Second, "soak scenario: RSS sampling period")
	fs.DurationVar(&c.CatchupOutage, "catchup-outage", time.Minute, "catchup scenario: how long the target is down while events come at --rate")
	loads := fs.String("loads", "saturation,fixed", "comma-separated loads: saturation, fixed")
	fs.IntVar(&c.Rounds, "rounds", 2, "interleaved rounds (each runs every middlebox once)")
	fs.DurationVar(&c.Warmup, "warmup", 2*time.Second, "saturation warm-up, not measured")
	fs.DurationVar(&c.SatDuration, "sat-duration", 10*time.Second, "saturation measurement")
	fs.IntVar(&c.Concurrency, "concurrency", 32, "saturation clients")
	fs.DurationVar(&c.FixedWarmup, "fixed-warmup", time.Second, "fixed-rate warm-up, not measured")
	fs.DurationVar(&c.FixedDuration, "fixed-duration", 10*time.Second, "fixed-rate measurement")
	fs.Float64Var(&c.Rate, "rate", 2000, "fixed rate, events/s")
	fs.IntVar(&c.Workers, "workers", 64, "open-loop sending workers at the fixed rate")
	fs.IntVar(&c.Window, "window", 10000, "broker scenarios: most events in flight (published, not yet consumed) at saturation")
	fs.StringVar(&c.Mosquitto, "mosquitto", "mosquitto", "the mosquitto broker binary, for the mqtt scenario")
	fs.DurationVar(&c.ReadyTimeout, "ready-timeout", 30*time.Second, "how long a middlebox may take to be ready")
	fs.DurationVar(&c.DrainTimeout, "drain-timeout", 60*time.Second, "how long to wait for accepted events to reach the sink")
	fs.DurationVar(&c.DrainQuiet, "drain-quiet", 10*time.Second, "stop waiting for missing events when none arrived for this long")
	fs.StringVar(&c.ProfileDir, "profile", "", "if set, take CPU profiles of the bridge (and forwarder) at saturation into this `DIR`, also of the bridge of each broker scenario run")
	fs.IntVar(&c.ProfileSeconds, "profile-seconds", 10, "CPU profile length")
	fs.StringVar(&c.ResultsDir, "results-dir", "", "where results go (default bench/results in the module)")
	fs.StringVar(&c.BinDir, "bin-dir", "", "prebuilt sink, forwarder and loadgen (default: go build them)")
	fs.BoolVar(&c.Quick, "quick", false, "smoke preset, about 30 s: 1 round of 3 s phases")
	fs.DurationVar(&c.SampleEvery, "rss-every", 100*time.Millisecond, "RSS sampling period")
	fs.DurationVar(&c.QuietWait, "quiet-wait", 30*time.Second, "before each sample, wait up to this long for the machine to be idle (0: don't)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if c.Quick {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		for name, v := range quickPreset {
			if !set[name] {
				_ = fs.Set(name, v) // the preset's values are valid
			}
		}
	}
	c.Flags = map[string]string{}
	fs.VisitAll(func(f *flag.Flag) { c.Flags[f.Name] = f.Value.String() })
	c.Middleboxes = splitList(*boxes)
	c.Scenarios = splitList(*scens)
	c.Loads = splitList(*loads)
	var errs []error
	for _, l := range []struct {
		name string
		s    string
		dst  *[]int
	}{{"rules-counts", *rules, &c.RulesCounts}, {"fanout-sizes", *fanout, &c.FanoutSizes}, {"archive-events", *archive, &c.ArchiveEvents}} {
		n, err := parseCounts(l.s)
		if err != nil {
			errs = append(errs, fmt.Errorf("--%s: %w", l.name, err))
		}
		*l.dst = n
	}
	return c, errors.Join(append(errs, c.validate())...)
}

// validate returns every problem with the flags at once.
func (c *config) validate() error {
	var errs []error
	for _, b := range c.Middleboxes {
		if !slices.Contains([]string{boxNone, boxForwarder, boxBridge}, b) {
			errs = append(errs, fmt.Errorf("--middleboxes: unknown %q (want none, forwarder, bridge)", b))
		}
	}
	for _, s := range c.Scenarios {
		switch {
		case s == scenSaturation || s == scenFixed:
			errs = append(errs, fmt.Errorf("--scenarios: %q is a load now: use --loads %s", s, s))
		case !slices.Contains(allScenarios, s) && !isScale(s):
			errs = append(errs, fmt.Errorf("--scenarios: unknown %q (want %s)", s, strings.Join(append(slices.Clone(allScenarios), scaleScenarios...), ", ")))
		}
	}
	for _, l := range c.Loads {
		if l != scenSaturation && l != scenFixed {
			errs = append(errs, fmt.Errorf("--loads: unknown %q (want saturation, fixed)", l))
		}
	}
	if len(c.Middleboxes) == 0 || len(c.Scenarios) == 0 || len(c.Loads) == 0 {
		errs = append(errs, errors.New("--middleboxes, --scenarios and --loads must not be empty"))
	}
	if c.Rounds < 1 || c.Concurrency < 1 || c.Workers < 1 || c.Rate <= 0 || c.Window < 1 {
		errs = append(errs, errors.New("--rounds, --concurrency, --workers, --rate and --window must be positive"))
	}
	if c.SatDuration <= 0 || c.FixedDuration <= 0 || c.ProfileSeconds < 1 {
		errs = append(errs, errors.New("--sat-duration, --fixed-duration and --profile-seconds must be positive"))
	}
	if c.FanoutDemand <= 0 || c.ArchiveWindowKeys < 0 || c.SoakDuration <= 0 || c.SoakEvery <= 0 || c.CatchupOutage <= 0 || c.SoakArchiveMaxAge < time.Second {
		errs = append(errs, errors.New("--fanout-demand, --soak-duration, --soak-every and --catchup-outage must be positive, --archive-window-keys not negative, --soak-archive-max-age at least 1s"))
	}
	return errors.Join(errs...)
}

// parseCounts reads a comma-separated list of positive counts; 1,000 is
// not accepted (the comma separates), 1e6 and 1_000_000 are not either.
func parseCounts(s string) ([]int, error) {
	var out []int
	for _, f := range splitList(s) {
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a positive whole number", f)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, errors.New("empty")
	}
	return out, nil
}

func splitList(s string) []string {
	var out []string
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f != "" && !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// has reports whether the run includes load l (saturation, fixed).
func (c *config) has(l string) bool { return slices.Contains(c.Loads, l) }

// boxesOf returns the middleboxes scenario scen runs: those of
// --middleboxes for http; direct, then the bridge if --middleboxes has it,
// for a broker.
func (c *config) boxesOf(scen string) []string {
	if scen == scenHTTP {
		return c.Middleboxes
	}
	if scen == scenCluster {
		if slices.Contains(c.Middleboxes, boxBridge) {
			return []string{boxReplicas1, boxReplicas3}
		}
		return nil
	}
	if slices.Contains(c.Middleboxes, boxBridge) {
		return []string{boxDirect, boxBridge}
	}
	return []string{boxDirect}
}
