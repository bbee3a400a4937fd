// Command benchrun measures what the bridge costs. Scenario http is "HTTP in
// → 1 rule → HTTP out": for each middlebox (none: load generator straight to
// the sink; forwarder: a plain net/http proxy; bridge: eventbridge serve) it
// starts a fresh sink and middlebox on loopback ports and runs a saturation
// load (32 clients as fast as they go) and a fixed-rate load (2,000
// events/s, open loop, latency from the intended send time). The broker
// scenarios nats (NATS → NATS), mqtt (MQTT → HTTP) and kafka (Kafka → Kafka)
// run the same loads through a private broker, comparing the bridge with a
// direct client-to-client baseline (brokers.go). The opt-in scale scenarios
// rules, fanout, archive, soak and catchup (scale*.go) measure how the
// bridge's costs grow with the work. Middleboxes are interleaved
// over rounds. It prints tables, bridge/baseline ratios and floor checks,
// and writes everything to bench/results/<run>/results.json. It exits 0
// whatever the floors say: they are a report, not a test.
//
//	go run ./bench/cmd/benchrun --bridge-bin bin/eventbridge
//	go run ./bench/cmd/benchrun --quick --fake-bridge
//	go run ./bench/cmd/benchrun --profile /tmp/prof
//
// See bench/README.md.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// runner holds what every sample needs.
type runner struct {
	cfg       *config
	bins      helpers
	bridgeBin string
	// bridgeMissing, when set, is why no bridge sample can run.
	bridgeMissing string
	runDir        string
}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchrun:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "benchrun:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg *config) error {
	r, cleanup, err := setup(ctx, cfg)
	if err != nil {
		return err
	}
	defer cleanup()
	rep := &report{RunID: filepath.Base(r.runDir), Machine: readMachine(), Flags: cfg.Flags}
	fmt.Printf("eventbridge bench %s: %s\n", rep.RunID, rep.Machine)
	fmt.Printf("scenarios %s; saturation: %v warm-up, %v with %d clients; fixed: %v warm-up, %v at %g events/s (%d workers); %d round(s)\n",
		strings.Join(cfg.Scenarios, ", "), cfg.Warmup, cfg.SatDuration, cfg.Concurrency, cfg.FixedWarmup, cfg.FixedDuration, cfg.Rate, cfg.Workers, cfg.Rounds)
	if r.bridgeMissing != "" && slices.Contains(cfg.Middleboxes, boxBridge) {
		fmt.Printf("bridge unavailable: %s\n", r.bridgeMissing)
	}

	for round := 1; round <= cfg.Rounds && ctx.Err() == nil; round++ {
		for _, scen := range cfg.Scenarios {
			if isScale(scen) {
				continue // run once, after the rounds
			}
			order := slices.Clone(cfg.boxesOf(scen))
			if round%2 == 0 {
				slices.Reverse(order) // ABBA order: a steady drift of the machine cancels out
			}
			for _, kind := range order {
				if ctx.Err() != nil {
					break
				}
				var s sample
				switch scen {
				case scenHTTP:
					s = r.runSample(ctx, kind, round)
				case scenCluster:
					s = r.runClusterSample(ctx, kind, round)
				default:
					s = r.runBrokerSample(ctx, scen, kind, round)
				}
				rep.Samples = append(rep.Samples, s)
				fmt.Println(progressLine(s))
			}
		}
	}
	for _, scen := range cfg.Scenarios {
		if isScale(scen) && ctx.Err() == nil {
			fmt.Printf("scale scenario %s: %s\n", scen, scenarioTitles[scen])
			rep.Scale = append(rep.Scale, r.runScale(ctx, scen))
		}
	}
	if cfg.ProfileDir != "" && ctx.Err() == nil && slices.Contains(cfg.Scenarios, scenHTTP) {
		for _, kind := range cfg.Middleboxes {
			if kind == boxNone || (kind == boxBridge && r.bridgeMissing != "") {
				continue
			}
			path, err := r.profileBox(ctx, kind, os.Stdout)
			if err != nil {
				fmt.Printf("profile of %s failed: %v\n", kind, err)
				continue
			}
			rep.Profiles = append(rep.Profiles, path)
		}
	}
	if cfg.ProfileDir != "" && ctx.Err() == nil && r.bridgeMissing == "" && !cfg.FakeBridge {
		for _, scen := range cfg.Scenarios {
			if !isBrokerScenario(scen) || ctx.Err() != nil {
				continue
			}
			path, err := r.profileBrokerBridge(ctx, scen, os.Stdout)
			if err != nil {
				fmt.Printf("profile of the %s bridge failed: %v\n", scen, err)
				continue
			}
			rep.Profiles = append(rep.Profiles, path)
		}
	}
	rep.build(cfg)
	rep.print(os.Stdout, cfg)
	path, err := rep.write(r.runDir)
	if err != nil {
		return err
	}
	fmt.Printf("\nresults: %s\nlogs:    %s\n", path, r.runDir)
	return ctx.Err()
}

// setup finds or builds the helper programs, checks the bridge binary and
// creates the run's directory.
func setup(ctx context.Context, cfg *config) (*runner, func(), error) {
	r := &runner{cfg: cfg}
	cleanup := func() {}
	cwd, err := os.Getwd()
	if err != nil {
		return nil, cleanup, err
	}
	root, rootErr := findModuleRoot(cwd)
	resultsDir := cfg.ResultsDir
	if resultsDir == "" {
		if rootErr != nil {
			return nil, cleanup, fmt.Errorf("%w: give --results-dir", rootErr)
		}
		resultsDir = filepath.Join(root, "bench", "results")
	}
	r.runDir = filepath.Join(resultsDir, time.Now().Format("20060102-150405"))
	if err := os.MkdirAll(r.runDir, 0o755); err != nil {
		return nil, cleanup, err
	}
	if cfg.ProfileDir != "" {
		if err := os.MkdirAll(cfg.ProfileDir, 0o755); err != nil {
			return nil, cleanup, err
		}
	}

	if cfg.BinDir != "" {
		r.bins, err = checkHelpers(cfg.BinDir)
	} else {
		if rootErr != nil {
			return nil, cleanup, fmt.Errorf("%w: give --bin-dir", rootErr)
		}
		var dir string
		if dir, err = os.MkdirTemp("", "eventbridge-bench-bin-"); err != nil {
			return nil, cleanup, err
		}
		cleanup = func() { _ = os.RemoveAll(dir) }
		fmt.Println("building sink, forwarder and loadgen ...")
		r.bins, err = buildHelpers(ctx, root, dir)
	}
	if err != nil {
		return nil, cleanup, err
	}
	r.bridgeBin, r.bridgeMissing = resolveBridge(cfg)
	return r, cleanup, nil
}
