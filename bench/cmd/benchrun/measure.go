package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/eventbridge-dev/eventbridge/bench/internal/loadgen"
	"github.com/eventbridge-dev/eventbridge/bench/internal/procstat"
	"github.com/eventbridge-dev/eventbridge/bench/internal/sink"
)

// phase is one measured scenario run.
type phase struct {
	Scenario string         `json:"scenario"`
	Load     loadgen.Result `json:"load"` // as the load generator saw it
	Sink     sink.Stats     `json:"sink"` // as the sink saw it, after draining
	// DeliveredRate is the sink's count over its first-to-last arrival
	// span: what got through, including a bridge's catch-up after the
	// load stopped.
	DeliveredRate float64 `json:"delivered_rate"`
	Drained       bool    `json:"drained"` // every 2xx-answered event reached the sink
	DrainSec      float64 `json:"drain_s"` // wait after the load ended
	// Lost counts events answered 2xx that never reached the sink.
	Lost int64 `json:"lost"`
	// CPUSec is the middlebox's user+system CPU time from the start of the
	// load to the end of the drain; CPUPerEventUS divides it by the
	// events delivered.
	CPUSec        float64 `json:"cpu_s,omitempty"`
	CPUPerEventUS float64 `json:"cpu_per_event_us,omitempty"`
	// OtherCPUCores is the CPU that processes outside the benchmark used
	// during the phase, in cores (the sum over every other process of its
	// CPU time, over wall time). Above a few tenths of a core the figures
	// are disturbed.
	OtherCPUCores float64 `json:"other_cpu_cores"`
}

// counter is where the events are counted: the sink process's API, or a
// sink in the runner (broker scenarios).
type counter interface {
	reset(ctx context.Context) error
	stats(ctx context.Context) (sink.Stats, error)
}

// measure runs one load for d against env: reset the sink, load, wait until
// the accepted events are delivered, read the sink.
func (r *runner) measure(ctx context.Context, e *env, load string, d time.Duration) (*phase, error) {
	return r.measureLoad(ctx, e.sinkAPI, e.box.proc, e.pids(), load, func() (loadgen.Result, error) {
		return r.runLoadgen(ctx, e.box.ingestURL, load, d)
	})
}

// measureLoad resets the counter, runs the load, waits until the accepted
// events have arrived and reads the counter. box is the middlebox process
// whose CPU is measured (nil: none); own are the processes of the
// benchmark, not counted as other processes' CPU use.
func (r *runner) measureLoad(ctx context.Context, c counter, box *child, own []int, load string,
	run func() (loadgen.Result, error)) (*phase, error) {
	if err := c.reset(ctx); err != nil {
		return nil, err
	}
	var cpu0 time.Duration
	if box != nil {
		cpu0, _ = procstat.CPU(box.pid())
	}
	start, tasks0 := time.Now(), snapshotTasks()
	res, err := run()
	if err != nil {
		return nil, err
	}
	drainStart := time.Now()
	st, drained, err := r.drain(ctx, c, res.OK)
	if err != nil {
		return nil, err
	}
	// The load generator was reaped by the runner: its time is in the
	// runner's children's time, skipped with the runner.
	other := snapshotTasks().CPUSince(tasks0, own...)
	p := &phase{
		Scenario:      load,
		Load:          res,
		Sink:          st,
		DeliveredRate: st.Rate(),
		Drained:       drained,
		DrainSec:      time.Since(drainStart).Seconds(),
		Lost:          max(int64(res.OK)-int64(st.Unique()), 0),
		OtherCPUCores: max(other.Seconds()/time.Since(start).Seconds(), 0),
	}
	if box != nil {
		if box.exited() {
			return p, errBoxDied
		}
		if cpu1, err := procstat.CPU(box.pid()); err == nil {
			p.CPUSec = (cpu1 - cpu0).Seconds()
			if st.Unique() > 0 {
				p.CPUPerEventUS = p.CPUSec * 1e6 / float64(st.Unique())
			}
		}
	}
	return p, nil
}

// runLoadgen runs the load generator against url and returns its report.
func (r *runner) runLoadgen(ctx context.Context, url, scenario string, d time.Duration) (loadgen.Result, error) {
	return r.runLoadgenAt(ctx, url, scenario, d, r.cfg.Rate)
}

// runLoadgenAt is runLoadgen with the fixed load at rate events/s.
func (r *runner) runLoadgenAt(ctx context.Context, url, scenario string, d time.Duration, rate float64) (loadgen.Result, error) {
	args := []string{"--url", url, "--mode", scenario, "--duration", d.String(), "--json"}
	if scenario == scenFixed {
		args = append(args, "--rate", strconv.FormatFloat(rate, 'f', -1, 64),
			"--workers", strconv.Itoa(r.cfg.Workers))
	} else {
		args = append(args, "--concurrency", strconv.Itoa(r.cfg.Concurrency))
	}
	cmd := exec.CommandContext(ctx, r.bins.loadgen, args...)
	cmd.SysProcAttr = childAttr()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	var res loadgen.Result
	err := startCmd(cmd)
	if err == nil {
		err = cmd.Wait()
	}
	if err != nil {
		return res, fmt.Errorf("loadgen: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		return res, fmt.Errorf("loadgen output: %w", err)
	}
	return res, nil
}

// pids returns the process ids of the runner, the sink and the middlebox.
func (e *env) pids() []int {
	pids := []int{os.Getpid(), e.sink.pid()}
	if e.box.proc != nil {
		pids = append(pids, e.box.proc.pid())
	}
	return pids
}

// snapshotTasks returns the CPU times of every process, or none where
// /proc is unavailable.
func snapshotTasks() procstat.Tasks {
	t, _ := procstat.SnapshotTasks()
	return t
}

// drain waits until the sink has want distinct events, its count stops
// moving for --drain-quiet, or the drain timeout passes. It returns the sink's
// last stats and whether all wanted events arrived.
func (r *runner) drain(ctx context.Context, sc counter, want uint64) (sink.Stats, bool, error) {
	return r.drainBy(ctx, sc, want, sink.Stats.Unique, r.cfg.DrainTimeout)
}

// drainBy is drain with the figure that must reach want (distinct events,
// or every delivery) and the timeout given.
func (r *runner) drainBy(ctx context.Context, sc counter, want uint64, got func(sink.Stats) uint64, timeout time.Duration) (sink.Stats, bool, error) {
	deadline := time.Now().Add(timeout)
	var last uint64
	lastMove := time.Now()
	for {
		st, err := sc.stats(ctx)
		if err != nil {
			return st, false, err
		}
		now := time.Now()
		switch {
		case got(st) >= want:
			return st, true, nil
		case st.Count != last:
			last, lastMove = st.Count, now
		case now.Sub(lastMove) > r.cfg.DrainQuiet || now.After(deadline):
			return st, false, nil
		}
		select {
		case <-ctx.Done():
			return st, false, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
