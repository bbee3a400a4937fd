package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/eventbridge-dev/eventbridge/bench/internal/procstat"
	"github.com/eventbridge-dev/eventbridge/bench/internal/sink"
)

// fanoutYAML renders n HTTP targets, all posting to the sink (each on a
// path of its own), and n rules that each match every event and send it to
// one of them.
func fanoutYAML(n int, sinkURL string) (targets, rules string) {
	var t, r strings.Builder
	for i := range n {
		name := fmt.Sprintf("t%04d", i)
		t.WriteString(sinkTarget(name, fmt.Sprintf("%s%s", sinkURL, name)))
		r.WriteString(forwardRule(fmt.Sprintf("f%04d", i), name))
	}
	return t.String(), r.String()
}

// fanoutRun is the fanout scenario's figures for one size.
type fanoutRun struct {
	Fanout    int     `json:"rules_and_targets"`
	IngestHz  float64 `json:"ingest_rate"`
	Phase     *phase  `json:"phase,omitempty"` // Sink.Count: deliveries; CPUPerEventUS: per delivery
	PeakRSS   uint64  `json:"peak_rss_bytes"`
	RateRatio float64 `json:"deliveries_ratio_to_1"`
	CPURatio  float64 `json:"cpu_per_delivery_ratio_to_1"`
	// Left is what the bridge still held when the drain gave up (nil:
	// everything arrived).
	Left  *backlog `json:"left,omitempty"`
	Error string   `json:"error,omitempty"`
}

// runFanout sends events matched by n rules to n targets, for each size
// of --fanout-sizes and for 1 rule to 1 target (the baseline), at the same
// demand of deliveries per second (--fanout-demand: an ingest rate of
// demand/n), more than the bridge delivers: the sink's deliveries per
// second are the bridge's capacity.
func (r *runner) runFanout(ctx context.Context) scaleReport {
	rep := scaleReport{Scenario: scenFanout, Columns: []string{"rules → targets", "ingest ev/s", "events accepted",
		"deliveries", "deliveries/s", "ratio to 1", "CPU µs/delivery", "ratio to 1", "peak RSS MiB"}}
	var runs []fanoutRun
	for _, n := range withBaseline(r.cfg.FanoutSizes, 1) {
		if ctx.Err() != nil {
			break
		}
		run := r.fanoutOnce(ctx, n)
		if len(runs) > 0 && runs[0].Phase != nil && run.Phase != nil {
			base := runs[0].Phase
			if base.DeliveredRate > 0 {
				run.RateRatio = run.Phase.DeliveredRate / base.DeliveredRate
			}
			if base.CPUPerEventUS > 0 {
				run.CPURatio = run.Phase.CPUPerEventUS / base.CPUPerEventUS
			}
		}
		runs = append(runs, run)
		line := "error: " + firstLine(run.Error)
		if p := run.Phase; run.Error == "" && p != nil {
			line = fmt.Sprintf("%.0f deliveries/s, %.0f µs CPU per delivery", p.DeliveredRate, p.CPUPerEventUS)
		}
		fmt.Printf("  fanout %5d: %s\n", n, line)
	}
	for _, run := range runs {
		label := fmt.Sprintf("%s → %s", countLabel(run.Fanout), countLabel(run.Fanout))
		if run.Error != "" {
			rep.Notes = append(rep.Notes, label+": "+run.Error)
		}
		p := run.Phase
		if p == nil {
			rep.Rows = append(rep.Rows, []string{label, "error: " + firstLine(run.Error)})
			continue
		}
		row := []string{label, fmt.Sprintf("%.0f", p.Load.AchievedRate), fmt.Sprint(p.Load.OK), fmt.Sprint(p.Sink.Count),
			fmtRate(p.DeliveredRate), "1", fmtUS(p.CPUPerEventUS), "1", mib(run.PeakRSS)}
		if run.Fanout != 1 {
			row[5], row[7] = fmt.Sprintf("%.2f", run.RateRatio), fmt.Sprintf("%.2f", run.CPURatio)
		}
		rep.Rows = append(rep.Rows, row)
		who := label
		if p.OtherCPUCores > noisyCores {
			rep.Notes = append(rep.Notes, fmt.Sprintf("%s: other processes used %.1f cores: figures disturbed", who, p.OtherCPUCores))
		}
		if !p.Drained {
			where := "the bridge held nothing more in WORK or RETRY: lost"
			if bl := run.Left; bl != nil && !bl.empty() {
				where = fmt.Sprintf("the bridge still held %d events in WORK and %d deliveries in RETRY: late", bl.Work, bl.Retry)
			}
			rep.Notes = append(rep.Notes, fmt.Sprintf("%s: %d of %d deliveries had not arrived when the drain ended after %.0f s (%s)", who, p.Lost, p.Load.OK*uint64(run.Fanout), p.DrainSec, where))
		} else if p.DrainSec > r.cfg.DrainQuiet.Seconds() {
			rep.Notes = append(rep.Notes, fmt.Sprintf("%s: the last deliveries arrived %.0f s after the load ended", who, p.DrainSec))
		}
		if p.Load.Errors+p.Load.Non2xx > 0 {
			rep.Notes = append(rep.Notes, fmt.Sprintf("%s: %d transport errors, %d non-2xx answers", who, p.Load.Errors, p.Load.Non2xx))
		}
	}
	rep.Goals, rep.Floors = fanoutGoals(runs)
	rep.Data = runs
	return rep
}

// fanoutGoals judges CPU per delivery at each size against the baseline.
func fanoutGoals(runs []fanoutRun) ([]goal, []floor) {
	var gs []goal
	var fs []floor
	for _, run := range runs {
		if run.Fanout == 1 {
			continue
		}
		name := fmt.Sprintf("CPU per delivery at %s → %s", countLabel(run.Fanout), countLabel(run.Fanout))
		ok := run.CPURatio > 0
		gs = append(gs, judge(name, "≤ 1.5× 1 rule", run.CPURatio, fmt.Sprintf("%.2f× (%.0f µs)", run.CPURatio, cpuPerDelivery(run)), ok, run.CPURatio <= 1.5))
		fs = append(fs, floorOf(fmt.Sprintf("%s ≤ %.1f× 1 rule", name, floorFanoutCPURatio), ok, run.CPURatio <= floorFanoutCPURatio, fmt.Sprintf("%.2f×", run.CPURatio)))
	}
	if len(gs) == 0 {
		gs = append(gs, judge("CPU per delivery with fan-out", "≤ 1.5× 1 rule", 0, "", false, false))
	}
	return gs, fs
}

func cpuPerDelivery(run fanoutRun) float64 {
	if run.Phase == nil {
		return 0
	}
	return run.Phase.CPUPerEventUS
}

// fanoutOnce measures n rules to n targets: a warm-up (routes start on
// their first event), then the measured phase.
func (r *runner) fanoutOnce(ctx context.Context, n int) fanoutRun {
	run := fanoutRun{Fanout: n, IngestHz: r.cfg.FanoutDemand / float64(n)}
	logDir := filepath.Join(r.runDir, fmt.Sprintf("fanout-%d", n))
	r.waitQuiet(ctx)
	tmp, cleanup, err := tempDir()
	if err != nil {
		run.Error = err.Error()
		return run
	}
	defer cleanup()
	dataDir := filepath.Join(tmp, "data")
	e, _, _, err := r.startScaleEnv(ctx, logDir, dataDir, func(port int, sinkURL string) string {
		targets, rules := fanoutYAML(n, sinkURL)
		return scaleConfig(dataDir, port, "", targets, rules)
	})
	if err != nil {
		run.Error = err.Error()
		return run
	}
	defer e.close()
	sampler := procstat.StartSampler(e.box.proc.pid(), r.cfg.SampleEvery)
	if _, _, err := r.measureFanout(ctx, e, n, run.IngestHz, r.cfg.Warmup); err != nil {
		run.Error = "warm-up: " + err.Error()
	} else if run.Phase, run.Left, err = r.measureFanout(ctx, e, n, run.IngestHz, r.cfg.SatDuration); err != nil {
		run.Error = err.Error()
	}
	run.PeakRSS = sampler.Stop()
	if m, err := procstat.Mem(e.box.proc.pid()); err == nil {
		run.PeakRSS = max(run.PeakRSS, m.HWM)
	}
	return run
}

// measureFanout sends events at rate for d (open loop) and waits until
// each accepted event has reached the sink n times. DeliveredRate is then
// deliveries per second (first to last arrival) and CPUPerEventUS the
// bridge's CPU per delivery.
func (r *runner) measureFanout(ctx context.Context, e *env, n int, rate float64, d time.Duration) (*phase, *backlog, error) {
	if err := e.sinkAPI.reset(ctx); err != nil {
		return nil, nil, err
	}
	pid := e.box.proc.pid()
	cpu0, _ := procstat.CPU(pid)
	start, tasks0 := time.Now(), snapshotTasks()
	// One rule: the closed loop, as the http scenario's saturation (an
	// open loop at the whole demand would pile up behind the ingest).
	mode := scenFixed
	if n == 1 {
		mode = scenSaturation
	}
	res, err := r.runLoadgenAt(ctx, e.box.ingestURL, mode, d, rate)
	if err != nil {
		return nil, nil, err
	}
	drainStart := time.Now()
	want := res.OK * uint64(n)
	st, drained, left, err := r.drainHonest(ctx, e.sinkAPI, e.box.ingestURL, want, func(st sink.Stats) uint64 { return st.Count }, max(r.cfg.DrainTimeout, 10*time.Minute))
	if err != nil {
		return nil, nil, err
	}
	var leftp *backlog
	if !drained {
		leftp = &left
	}
	p := &phase{Scenario: scenFanout, Load: res, Sink: st, DeliveredRate: st.Rate(), Drained: drained,
		DrainSec: time.Since(drainStart).Seconds(), Lost: max(int64(want)-int64(st.Count), 0),
		OtherCPUCores: max(snapshotTasks().CPUSince(tasks0, e.pids()...).Seconds()/time.Since(start).Seconds(), 0)}
	if e.box.proc.exited() {
		return p, leftp, errBoxDied
	}
	if cpu1, err := procstat.CPU(pid); err == nil && st.Count > 0 {
		p.CPUSec = (cpu1 - cpu0).Seconds()
		p.CPUPerEventUS = p.CPUSec * 1e6 / float64(st.Count)
	}
	return p, leftp, nil
}
