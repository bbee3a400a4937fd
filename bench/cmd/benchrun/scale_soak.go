package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/eventbridge-dev/eventbridge/bench/internal/loadgen"
	"github.com/eventbridge-dev/eventbridge/bench/internal/procstat"
	"github.com/eventbridge-dev/eventbridge/bench/internal/sink"
)

// rssPoint is one RSS sample of a soak, t seconds after the load started.
type rssPoint struct {
	T   float64 `json:"t_s"`
	RSS uint64  `json:"rss_bytes"`
}

// trendMiBPerMin fits a least-squares line to the samples taken at or
// after from seconds and returns its slope in MiB per minute (0 with fewer
// than two samples).
func trendMiBPerMin(points []rssPoint, from float64) float64 {
	var n, sx, sy, sxx, sxy float64
	for _, p := range points {
		if p.T < from {
			continue
		}
		x, y := p.T/60, float64(p.RSS)/(1<<20)
		n++
		sx += x
		sy += y
		sxx += x * x
		sxy += x * y
	}
	den := n*sxx - sx*sx
	if n < 2 || den == 0 {
		return 0
	}
	return (n*sxy - sx*sy) / den
}

// soakWindow is the length of the first and last windows whose p99 a soak
// compares: a minute, or a third of a shorter run.
func soakWindow(d time.Duration) time.Duration { return min(time.Minute, d/3) }

// defaultDedupWindow is the bus's default dedup_window.
const defaultDedupWindow = 2 * time.Minute

// soakBus is the soak's bus section: the archive's max_age, and the dedup
// window cut to it when it is shorter than the default (the bridge wants
// max_age ≥ the window).
func soakBus(maxAge time.Duration) string {
	s := fmt.Sprintf("  archive: {max_age: %s}\n", maxAge)
	if maxAge < defaultDedupWindow {
		s += fmt.Sprintf("  dedup_window: %s\n", maxAge)
	}
	return s
}

// soakRun is the soak scenario's figures.
type soakRun struct {
	DurationS      float64        `json:"duration_s"`
	Rate           float64        `json:"rate"`
	ArchiveMaxAge  string         `json:"archive_max_age"`
	WindowS        float64        `json:"window_s"`
	Samples        []rssPoint     `json:"rss"`
	TrendMiBPerMin float64        `json:"rss_trend_mib_per_min"` // after the first window
	GrowthShare    float64        `json:"trend_growth_share"`    // trend × (run − window) / RSS at the end of the first window
	FirstRSS       uint64         `json:"rss_after_first_window_bytes"`
	LastRSS        uint64         `json:"rss_at_end_bytes"`
	PeakRSS        uint64         `json:"peak_rss_bytes"`
	First          sink.Stats     `json:"first_window"`
	Last           sink.Stats     `json:"last_window"`
	Load           loadgen.Result `json:"load"`
	OtherCPUCores  float64        `json:"other_cpu_cores"`
	Error          string         `json:"error,omitempty"`
}

// runSoak loads one bridge at the fixed rate for --soak-duration, with the
// archive's max_age at --soak-archive-max-age so that retention cycles
// during the run, samples its RSS every --soak-every and compares the
// end-to-end p99 of the first and last windows (a minute each).
func (r *runner) runSoak(ctx context.Context) scaleReport {
	rep := scaleReport{Scenario: scenSoak, Columns: []string{"duration", "rate", "events sent", "RSS after 1st window MiB", "RSS at end MiB",
		"peak RSS MiB", "RSS trend MiB/min", "p99 1st window ms", "p99 last window ms", "ratio"}}
	run := r.soakOnce(ctx)
	rep.Data = run
	fmt.Printf("  soak %v: RSS %s → %s MiB, trend %+.2f MiB/min, p99 %.2f → %.2f ms\n", r.cfg.SoakDuration,
		mib(run.FirstRSS), mib(run.LastRSS), run.TrendMiBPerMin, run.First.P99, run.Last.P99)
	if run.Error != "" {
		rep.Notes = append(rep.Notes, run.Error)
	}
	ratio := 0.0
	if run.First.P99 > 0 {
		ratio = run.Last.P99 / run.First.P99
	}
	if run.Load.Sent > 0 {
		rep.Rows = append(rep.Rows, []string{(time.Duration(run.DurationS) * time.Second).String(), fmt.Sprintf("%g/s", run.Rate),
			fmt.Sprint(run.Load.Sent), mib(run.FirstRSS), mib(run.LastRSS), mib(run.PeakRSS), fmt.Sprintf("%+.2f", run.TrendMiBPerMin),
			fmtMS(run.First.P99), fmtMS(run.Last.P99), fmt.Sprintf("%.2f", ratio)})
		if run.Load.Errors+run.Load.Non2xx > 0 {
			rep.Notes = append(rep.Notes, fmt.Sprintf("%d transport errors, %d non-2xx answers", run.Load.Errors, run.Load.Non2xx))
		}
		if run.Load.AchievedRate < 0.95*run.Rate {
			rep.Notes = append(rep.Notes, fmt.Sprintf("only %.0f of %g events/s sent: an overloaded system", run.Load.AchievedRate, run.Rate))
		}
		if run.OtherCPUCores > noisyCores {
			rep.Notes = append(rep.Notes, fmt.Sprintf("other processes used %.1f cores: figures disturbed", run.OtherCPUCores))
		}
	}
	measured := run.Error == "" && len(run.Samples) > 1
	rep.Goals = []goal{
		judge("RSS trend over the run", "≤ 5% growth", run.GrowthShare,
			fmt.Sprintf("%+.1f%% (%+.2f MiB/min after the first %.0f s)", 100*run.GrowthShare, run.TrendMiBPerMin, run.WindowS), measured, run.GrowthShare <= 0.05),
		judge("p99 in the last window", "≤ 1.25× the first", ratio,
			fmt.Sprintf("%.2f× (%.2f vs %.2f ms)", ratio, run.Last.P99, run.First.P99), measured && ratio > 0, ratio <= 1.25),
	}
	return rep
}

// soakOnce runs the soak.
func (r *runner) soakOnce(ctx context.Context) soakRun {
	d := r.cfg.SoakDuration
	w := soakWindow(d)
	run := soakRun{DurationS: d.Seconds(), Rate: r.cfg.Rate, ArchiveMaxAge: r.cfg.SoakArchiveMaxAge.String(), WindowS: w.Seconds()}
	r.waitQuiet(ctx)
	tmp, cleanup, err := tempDir()
	if err != nil {
		run.Error = err.Error()
		return run
	}
	defer cleanup()
	dataDir := filepath.Join(tmp, "data")
	e, _, _, err := r.startScaleEnv(ctx, filepath.Join(r.runDir, "soak"), dataDir, func(port int, sinkURL string) string {
		return scaleConfig(dataDir, port, soakBus(r.cfg.SoakArchiveMaxAge), sinkTarget("sink", sinkURL), forwardRule("forward", "sink"))
	})
	if err != nil {
		run.Error = err.Error()
		return run
	}
	defer e.close()
	pid := e.box.proc.pid()
	if err := e.sinkAPI.reset(ctx); err != nil {
		run.Error = err.Error()
		return run
	}
	type result struct {
		res loadgen.Result
		err error
	}
	done := make(chan result, 1)
	start, tasks0 := time.Now(), snapshotTasks()
	go func() {
		res, err := r.runLoadgen(ctx, e.box.ingestURL, scenFixed, d)
		done <- result{res, err}
	}()
	tick := time.NewTicker(r.cfg.SoakEvery)
	defer tick.Stop()
	firstRead, lastReset := false, false
	var loadErr error
loop:
	for {
		select {
		case res := <-done:
			run.Load, loadErr = res.res, res.err
			break loop
		case <-tick.C:
		}
		t := time.Since(start)
		if m, err := procstat.Mem(pid); err == nil {
			run.Samples = append(run.Samples, rssPoint{T: t.Seconds(), RSS: m.RSS})
			run.PeakRSS = max(run.PeakRSS, m.RSS, m.HWM)
			if !firstRead && t >= w {
				run.FirstRSS = m.RSS
			}
		}
		if !firstRead && t >= w {
			firstRead = true
			if run.First, err = e.sinkAPI.stats(ctx); err != nil {
				loadErr = err
			}
		}
		if !lastReset && t >= d-w {
			lastReset = true
			if err := e.sinkAPI.reset(ctx); err != nil {
				loadErr = err
			}
		}
	}
	if loadErr != nil {
		run.Error = loadErr.Error()
		return run
	}
	// The last window: what arrives until the sink's count stops moving.
	run.Last, _, err = r.drainBy(ctx, e.sinkAPI, ^uint64(0), sink.Stats.Unique, 30*time.Second)
	if err != nil {
		run.Error = err.Error()
	}
	run.OtherCPUCores = max(snapshotTasks().CPUSince(tasks0, e.pids()...).Seconds()/time.Since(start).Seconds(), 0)
	if m, err := procstat.Mem(pid); err == nil {
		run.LastRSS = m.RSS
		run.PeakRSS = max(run.PeakRSS, m.HWM)
	}
	run.TrendMiBPerMin = trendMiBPerMin(run.Samples, w.Seconds())
	if run.FirstRSS > 0 {
		run.GrowthShare = run.TrendMiBPerMin * (d - w).Minutes() / (float64(run.FirstRSS) / (1 << 20))
	}
	return run
}
