package main

import (
	"errors"
	"flag"
	"fmt"
	"slices"
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
}

// parseFlags reads the command line. --quick changes the defaults of the
// duration and round flags; flags given explicitly still win.
func parseFlags(args []string) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("benchrun", flag.ContinueOnError)
	fs.StringVar(&c.BridgeBin, "bridge-bin", "bin/eventbridge", "eventbridge binary, started as `serve --config FILE`")
	fs.BoolVar(&c.FakeBridge, "fake-bridge", false, "run the forwarder in the bridge's place (to test the runner)")
	boxes := fs.String("middleboxes", "none,forwarder,bridge", "comma-separated middleboxes of the http scenario; without bridge, no scenario runs the bridge")
	scens := fs.String("scenarios", strings.Join(allScenarios, ","), "comma-separated scenarios: http, nats, mqtt, kafka, cluster")
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
	fs.StringVar(&c.ProfileDir, "profile", "", "if set, take CPU profiles of the bridge (and forwarder) at saturation into this `DIR`")
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
	return c, c.validate()
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
		case !slices.Contains(allScenarios, s):
			errs = append(errs, fmt.Errorf("--scenarios: unknown %q (want %s)", s, strings.Join(allScenarios, ", ")))
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
	return errors.Join(errs...)
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
