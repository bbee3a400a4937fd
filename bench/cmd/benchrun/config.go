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

// Scenario names.
const (
	scenSaturation = "saturation"
	scenFixed      = "fixed"
)

// config is everything a run is told by its flags.
type config struct {
	BridgeBin   string
	FakeBridge  bool
	Middleboxes []string
	Scenarios   []string
	Rounds      int

	Warmup        time.Duration // before saturation
	SatDuration   time.Duration // saturation measurement
	Concurrency   int           // saturation clients
	FixedWarmup   time.Duration // at the fixed rate, before measuring
	FixedDuration time.Duration // fixed-rate measurement
	Rate          float64
	Workers       int // open-loop sending workers

	ReadyTimeout time.Duration
	DrainTimeout time.Duration

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

// quickPreset is what --quick sets: about 30 s for the three middleboxes.
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
	boxes := fs.String("middleboxes", "none,forwarder,bridge", "comma-separated middleboxes to measure")
	scens := fs.String("scenarios", "saturation,fixed", "comma-separated scenarios: saturation, fixed")
	fs.IntVar(&c.Rounds, "rounds", 2, "interleaved rounds (each runs every middlebox once)")
	fs.DurationVar(&c.Warmup, "warmup", 2*time.Second, "saturation warm-up, not measured")
	fs.DurationVar(&c.SatDuration, "sat-duration", 10*time.Second, "saturation measurement")
	fs.IntVar(&c.Concurrency, "concurrency", 32, "saturation clients")
	fs.DurationVar(&c.FixedWarmup, "fixed-warmup", time.Second, "fixed-rate warm-up, not measured")
	fs.DurationVar(&c.FixedDuration, "fixed-duration", 10*time.Second, "fixed-rate measurement")
	fs.Float64Var(&c.Rate, "rate", 2000, "fixed rate, events/s")
	fs.IntVar(&c.Workers, "workers", 64, "open-loop sending workers at the fixed rate")
	fs.DurationVar(&c.ReadyTimeout, "ready-timeout", 30*time.Second, "how long a middlebox may take to be ready")
	fs.DurationVar(&c.DrainTimeout, "drain-timeout", 60*time.Second, "how long to wait for accepted events to reach the sink")
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
		if s != scenSaturation && s != scenFixed {
			errs = append(errs, fmt.Errorf("--scenarios: unknown %q (want saturation, fixed)", s))
		}
	}
	if len(c.Middleboxes) == 0 || len(c.Scenarios) == 0 {
		errs = append(errs, errors.New("--middleboxes and --scenarios must not be empty"))
	}
	if c.Rounds < 1 || c.Concurrency < 1 || c.Workers < 1 || c.Rate <= 0 {
		errs = append(errs, errors.New("--rounds, --concurrency, --workers and --rate must be positive"))
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

// has reports whether the run includes scenario s.
func (c *config) has(s string) bool { return slices.Contains(c.Scenarios, s) }
