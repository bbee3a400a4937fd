package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/eventbridge-dev/eventbridge/bench/internal/loadgen"
	"github.com/eventbridge-dev/eventbridge/bench/internal/sink"
)

// catchupRun is the catchup scenario's figures.
type catchupRun struct {
	Sat        *phase         `json:"saturation,omitempty"`
	OutageS    float64        `json:"outage_s"`
	Outage     loadgen.Result `json:"outage_load"` // sent while the sink was down
	Backlog    uint64         `json:"backlog"`
	Drain      sink.Stats     `json:"drain"` // the restarted sink's
	FirstS     float64        `json:"first_delivery_after_s"`
	AllS       float64        `json:"all_delivered_after_s"`
	DrainRate  float64        `json:"drain_rate"` // first to last arrival
	Ratio      float64        `json:"drain_ratio_to_sat"`
	Drained    bool           `json:"drained"`
	OtherCores float64        `json:"other_cpu_cores"`
	Error      string         `json:"error,omitempty"`
}

// runCatchup measures a bridge at saturation, stops its target (the sink)
// for --catchup-outage while events come at the fixed rate, starts the sink
// again on the same port and times the drain of the backlog.
func (r *runner) runCatchup(ctx context.Context) scaleReport {
	rep := scaleReport{Scenario: scenCatchup, Columns: []string{"outage", "backlog (events)", "saturation ev/s",
		"first delivery after", "drain ev/s", "ratio to saturation", "all delivered after"}}
	run := r.catchupOnce(ctx)
	rep.Data = run
	fmt.Printf("  catchup: backlog %d drained at %.0f ev/s (saturation %.0f)\n", run.Backlog, run.DrainRate, satRateOf(run.Sat))
	if run.Error != "" {
		rep.Notes = append(rep.Notes, run.Error)
	}
	rep.Notes = append(rep.Notes, phaseNotes("saturation", run.Sat, readMachine().CPUs)...)
	if run.Backlog > 0 {
		sat := "—"
		if run.Sat != nil {
			sat = fmtRate(run.Sat.DeliveredRate)
		}
		all := fmt.Sprintf("%.1f s", run.AllS)
		if !run.Drained {
			all = fmt.Sprintf("not all (%d of %d)", run.Drain.Unique(), run.Backlog)
		}
		rep.Rows = append(rep.Rows, []string{fmt.Sprintf("%.0f s at %g/s", run.OutageS, r.cfg.Rate), fmt.Sprint(run.Backlog), sat,
			fmt.Sprintf("%.1f s", run.FirstS), fmtRate(run.DrainRate), fmt.Sprintf("%.2f", run.Ratio), all})
		if run.OtherCores > noisyCores {
			rep.Notes = append(rep.Notes, fmt.Sprintf("outage and drain: other processes used %.1f cores: figures disturbed", run.OtherCores))
		}
		if run.Drain.Duplicates > 0 {
			rep.Notes = append(rep.Notes, fmt.Sprintf("%d duplicate deliveries in the drain", run.Drain.Duplicates))
		}
	}
	measured := run.Error == "" && run.Ratio > 0
	rep.Goals = []goal{judge("backlog drain rate", "≥ 0.8× saturation", run.Ratio,
		fmt.Sprintf("%.2f× (%.0f vs %.0f ev/s)", run.Ratio, run.DrainRate, satRateOf(run.Sat)), measured, run.Ratio >= 0.8)}
	rep.Floors = []floor{floorOf(fmt.Sprintf("backlog drain rate ≥ %.1f× saturation", floorCatchupRatio), measured, run.Ratio >= floorCatchupRatio,
		fmt.Sprintf("%.2f×", run.Ratio))}
	return rep
}

func satRateOf(p *phase) float64 {
	if p == nil {
		return 0
	}
	return p.DeliveredRate
}

// catchupOnce runs the catch-up.
func (r *runner) catchupOnce(ctx context.Context) catchupRun {
	run := catchupRun{OutageS: r.cfg.CatchupOutage.Seconds()}
	r.waitQuiet(ctx)
	tmp, cleanup, err := tempDir()
	if err != nil {
		run.Error = err.Error()
		return run
	}
	defer cleanup()
	dataDir, logDir := filepath.Join(tmp, "data"), filepath.Join(r.runDir, "catchup")
	e, sinkPort, _, err := r.startScaleEnv(ctx, logDir, dataDir, func(port int, sinkURL string) string {
		return scaleConfig(dataDir, port, "", sinkTarget("sink", sinkURL), forwardRule("forward", "sink"))
	})
	if err != nil {
		run.Error = err.Error()
		return run
	}
	defer e.close()
	if _, err := r.measure(ctx, e, scenSaturation, r.cfg.Warmup); err != nil {
		run.Error = "saturation warm-up: " + err.Error()
		return run
	}
	if run.Sat, err = r.measure(ctx, e, scenSaturation, r.cfg.SatDuration); err != nil {
		run.Error = "saturation: " + err.Error()
		return run
	}

	// The outage: the sink is stopped, events keep coming at the rate.
	e.sink.stop(stopGrace)
	start, tasks0 := time.Now(), snapshotTasks()
	if run.Outage, err = r.runLoadgen(ctx, e.box.ingestURL, scenFixed, r.cfg.CatchupOutage); err != nil {
		run.Error = "outage load: " + err.Error()
		return run
	}
	run.Backlog = run.Outage.OK
	up := time.Now()
	e.sink, err = startChild("sink-after-outage", logDir, r.bins.sink, "--listen", fmt.Sprintf("127.0.0.1:%d", sinkPort))
	if err == nil {
		err = e.sink.waitReady(ctx, fmt.Sprintf("http://127.0.0.1:%d/readyz", sinkPort), 10*time.Second)
	}
	if err != nil {
		run.Error = "restart the sink on its port: " + err.Error()
		return run
	}
	// The breaker may hold deliveries back for its open_for (30 s) after
	// the sink is back: the quiet rule applies once deliveries have begun.
	deadline := up.Add(max(r.cfg.DrainTimeout, 10*time.Minute))
	var last uint64
	lastMove := time.Now()
	for {
		st, err := e.sinkAPI.stats(ctx)
		if err != nil {
			run.Error = err.Error()
			return run
		}
		run.Drain = st
		now := time.Now()
		if st.Unique() >= run.Backlog {
			run.Drained = true
			break
		}
		if st.Count != last {
			last, lastMove = st.Count, now
		}
		if (st.Count > 0 && now.Sub(lastMove) > r.cfg.DrainQuiet) || now.After(deadline) || ctx.Err() != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	run.OtherCores = max(snapshotTasks().CPUSince(tasks0, e.pids()...).Seconds()/time.Since(start).Seconds(), 0)
	if run.Drain.FirstUnixNano > 0 {
		run.FirstS = time.Unix(0, run.Drain.FirstUnixNano).Sub(up).Seconds()
		run.AllS = time.Unix(0, run.Drain.LastUnixNano).Sub(up).Seconds()
	}
	run.DrainRate = run.Drain.Rate()
	if run.Sat != nil && run.Sat.DeliveredRate > 0 {
		run.Ratio = run.DrainRate / run.Sat.DeliveredRate
	}
	return run
}
