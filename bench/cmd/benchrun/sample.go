package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/eventbridge-dev/eventbridge/bench/internal/procstat"
)

// stopGrace is how long a child may take to exit after SIGTERM.
const stopGrace = 5 * time.Second

// sample is one middlebox measured in one round: a fresh sink and
// middlebox, then each scenario.
type sample struct {
	Scenario  string `json:"scenario"` // http, nats, mqtt, kafka
	Middlebox string `json:"middlebox"`
	Round     int    `json:"round"`
	// Unavailable says why the middlebox could not be started.
	Unavailable string `json:"unavailable,omitempty"`
	// Error says why a scenario could not be completed.
	Error      string `json:"error,omitempty"`
	Saturation *phase `json:"saturation,omitempty"`
	Fixed      *phase `json:"fixed,omitempty"`
	// QuietWaitSec is how long the runner waited for an idle machine
	// before the sample, and BusyBeforeCores the machine's CPU use, in
	// cores, in the last second of that wait.
	QuietWaitSec    float64 `json:"quiet_wait_s"`
	BusyBeforeCores float64 `json:"busy_before_cores"`
	// PeakRSS is the larger of VmHWM at the end and the largest sampled
	// VmRSS, in bytes; 0 for "none".
	PeakRSS    uint64 `json:"peak_rss_bytes"`
	HWM        uint64 `json:"vm_hwm_bytes"`
	SampledRSS uint64 `json:"sampled_max_rss_bytes"`
}

// runSample measures middlebox kind once.
func (r *runner) runSample(ctx context.Context, kind string, round int) (s sample) {
	s = sample{Scenario: scenHTTP, Middlebox: kind, Round: round}
	if kind == boxBridge && r.bridgeMissing != "" {
		s.Unavailable = r.bridgeMissing
		return s
	}
	logDir := filepath.Join(r.runDir, fmt.Sprintf("r%d-%s", round, kind))
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		s.Error = err.Error()
		return s
	}
	wait, busy := r.waitQuiet(ctx)
	s.QuietWaitSec, s.BusyBeforeCores = wait.Seconds(), busy
	env, err := r.startEnv(ctx, kind, logDir, false)
	if err != nil {
		s.Unavailable = err.Error()
		return s
	}
	defer env.close()

	err = r.measureSample(ctx, env.box.proc, &s, func(ctx context.Context, load string, d time.Duration) (*phase, error) {
		return r.measure(ctx, env, load, d)
	})
	if err != nil {
		s.Error = err.Error()
	}
	return s
}

// measureFunc runs one load (saturation, fixed) for d and measures it.
type measureFunc func(ctx context.Context, load string, d time.Duration) (*phase, error)

// measureSample runs the configured loads with measure, each after its
// warm-up, and records the peak RSS of proc (the middlebox; nil: none).
func (r *runner) measureSample(ctx context.Context, proc *child, s *sample, measure measureFunc) error {
	var sampler *procstat.Sampler
	if proc != nil {
		sampler = procstat.StartSampler(proc.pid(), r.cfg.SampleEvery)
	}
	err := r.runScenarios(ctx, measure, s)
	if sampler != nil {
		s.SampledRSS = sampler.Stop()
		if m, merr := procstat.Mem(proc.pid()); merr == nil {
			s.HWM = m.HWM
		}
		s.PeakRSS = max(s.HWM, s.SampledRSS)
	}
	return err
}

// runScenarios runs the configured loads, each after its warm-up.
func (r *runner) runScenarios(ctx context.Context, measure measureFunc, s *sample) error {
	if r.cfg.has(scenSaturation) {
		if _, err := measure(ctx, scenSaturation, r.cfg.Warmup); err != nil {
			return fmt.Errorf("saturation warm-up: %w", err)
		}
		p, err := measure(ctx, scenSaturation, r.cfg.SatDuration)
		if err != nil {
			return fmt.Errorf("saturation: %w", err)
		}
		s.Saturation = p
	}
	if r.cfg.has(scenFixed) {
		if _, err := measure(ctx, scenFixed, r.cfg.FixedWarmup); err != nil {
			return fmt.Errorf("fixed-rate warm-up: %w", err)
		}
		p, err := measure(ctx, scenFixed, r.cfg.FixedDuration)
		if err != nil {
			return fmt.Errorf("fixed rate: %w", err)
		}
		s.Fixed = p
	}
	return nil
}

// env is a sink and a middlebox in front of it, running for one sample.
type env struct {
	sink    *child
	sinkAPI sinkClient
	box     *box
	tmp     string
}

// startEnv starts a fresh sink and middlebox kind, logging to logDir.
func (r *runner) startEnv(ctx context.Context, kind, logDir string, profile bool) (*env, error) {
	e := &env{}
	var port int
	var err error
	e.sink, port, err = r.startServer(ctx, "sink", logDir, r.bins.sink, 10*time.Second, func(port int) ([]string, error) {
		return []string{"--listen", fmt.Sprintf("127.0.0.1:%d", port)}, nil
	})
	if err != nil {
		return nil, err
	}
	sinkBase := fmt.Sprintf("http://127.0.0.1:%d", port)
	e.sinkAPI = newSinkClient(sinkBase)
	if e.tmp, err = os.MkdirTemp("", "eventbridge-bench-"); err != nil {
		e.close()
		return nil, err
	}
	if e.box, err = r.startBox(ctx, kind, sinkBase+"/", logDir, filepath.Join(e.tmp, "data"), profile); err != nil {
		e.close()
		return nil, err
	}
	return e, nil
}

// close stops the middlebox, then the sink, and removes temporary files.
func (e *env) close() {
	if e.box != nil && e.box.proc != nil {
		e.box.proc.stop(stopGrace)
	}
	e.sink.stop(stopGrace)
	if e.tmp != "" {
		_ = os.RemoveAll(e.tmp)
	}
}

// errBoxDied reports that the middlebox exited during a measurement.
var errBoxDied = errors.New("middlebox exited during the run")
