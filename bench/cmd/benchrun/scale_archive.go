package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventbridge-dev/eventbridge/bench/internal/loadgen"
	"github.com/eventbridge-dev/eventbridge/internal/bus"
	ebconfig "github.com/eventbridge-dev/eventbridge/internal/config"
	_ "github.com/eventbridge-dev/eventbridge/internal/connector/all" // the prefill's bridge needs the http connector
	"github.com/eventbridge-dev/eventbridge/internal/server"
)

// archiveBus is the bus section of the archive scenario's bridge: an
// archive large enough for n events (about 1 KiB each on disk, with room
// to spare) and the default dedup window.
func archiveBus(n int) string {
	return fmt.Sprintf("  archive: {max_bytes: %dMiB}\n", 256+n/1024)
}

// archiveRun is the archive scenario's figures for one archive size.
type archiveRun struct {
	Events     int     `json:"archived_events"`
	WindowKeys int     `json:"dedup_window_keys"`
	PrefillS   float64 `json:"prefill_s,omitempty"`
	Archived   uint64  `json:"events_stream_msgs,omitempty"` // EVENTS after the prefill
	StartupS   float64 `json:"startup_s"`
	RSS        uint64  `json:"idle_rss_bytes"`
	HWM        uint64  `json:"peak_rss_bytes"` // VmHWM: start-up included
	KeysLoaded string  `json:"keys_loaded,omitempty"`
	RSSRatio   float64 `json:"rss_ratio_to_empty"`
	Error      string  `json:"error,omitempty"`
}

// runArchive measures the bridge's start-up with an empty bus, then with
// each size of --archive-events: the archive is prefilled by a bridge
// running in the runner, through its bus's publish API (the ingest path
// without HTTP), the last --archive-window-keys events with deduplication
// (the full dedup window: 240,000 keys are 2 minutes at 2,000 events/s),
// the others without (archived, their keys not in the window); that bridge
// stops cleanly (saving its dedup snapshot), then eventbridge serve starts
// on the same data and is timed to ready.
func (r *runner) runArchive(ctx context.Context) scaleReport {
	rep := scaleReport{Scenario: scenArchive, Columns: []string{"archived events", "keys in dedup window", "prefill",
		"start-up to ready", "ratio to empty", "RSS MiB (idle)", "ratio to empty", "peak RSS MiB", "dedup keys loaded"}}
	var runs []archiveRun
	for _, n := range withBaseline(r.cfg.ArchiveEvents, 0) {
		if ctx.Err() != nil {
			break
		}
		run := r.archiveOnce(ctx, n)
		if len(runs) > 0 && runs[0].RSS > 0 && run.RSS > 0 {
			run.RSSRatio = float64(run.RSS) / float64(runs[0].RSS)
		}
		runs = append(runs, run)
		line := "error: " + firstLine(run.Error)
		if run.Error == "" {
			line = fmt.Sprintf("prefill %.1f s, start-up %.2f s, RSS %s MiB", run.PrefillS, run.StartupS, mib(run.RSS))
		}
		fmt.Printf("  archive %9d: %s\n", n, line)
	}
	var empty *archiveRun
	if len(runs) > 0 && runs[0].Error == "" {
		empty = &runs[0]
	}
	for _, run := range runs {
		label := countLabel(run.Events)
		if run.Events == 0 {
			label = "0 (empty bus)"
		}
		if run.Error != "" {
			rep.Notes = append(rep.Notes, label+": "+run.Error)
			rep.Rows = append(rep.Rows, []string{label, "error: " + firstLine(run.Error)})
			continue
		}
		prefill, su, rss := "—", "1", "1"
		if run.Events > 0 {
			prefill = fmt.Sprintf("%.1f s (%s ev/s)", run.PrefillS, fmtRate(float64(run.Events)/run.PrefillS))
			su, rss = "—", "—"
			if empty != nil && empty.StartupS > 0 {
				su = fmt.Sprintf("%.1f", run.StartupS/empty.StartupS)
			}
			if run.RSSRatio > 0 {
				rss = fmt.Sprintf("%.2f", run.RSSRatio)
			}
		}
		rep.Rows = append(rep.Rows, []string{label, countLabel(run.WindowKeys), prefill, fmt.Sprintf("%.2f s", run.StartupS), su,
			mib(run.RSS), rss, mib(run.HWM), run.KeysLoaded})
	}
	rep.Goals, rep.Floors = archiveGoals(runs)
	rep.Data = runs
	return rep
}

// archiveGoals judges start-up and RSS at each archive size.
func archiveGoals(runs []archiveRun) ([]goal, []floor) {
	var gs []goal
	var fs []floor
	for _, run := range runs {
		if run.Events == 0 {
			continue
		}
		at := " with " + countLabel(run.Events) + " archived events"
		ok := run.Error == ""
		gs = append(gs,
			judge("start-up"+at, "≤ 2 s", run.StartupS, fmt.Sprintf("%.2f s", run.StartupS), ok, run.StartupS <= 2),
			judge("RSS"+at, "≤ 1.1× empty bus", run.RSSRatio, fmt.Sprintf("%.2f× (%s MiB)", run.RSSRatio, mib(run.RSS)), ok && run.RSSRatio > 0, run.RSSRatio <= 1.1))
		fs = append(fs, floorOf(fmt.Sprintf("start-up%s ≤ %g s", at, floorArchiveStartupS), ok, run.StartupS <= floorArchiveStartupS, fmt.Sprintf("%.2f s", run.StartupS)))
	}
	if len(gs) == 0 {
		gs = append(gs, judge("start-up with a full archive", "≤ 2 s", 0, "", false, false))
	}
	return gs, fs
}

// archiveOnce prefills an archive of n events (none for the empty bus),
// then times eventbridge serve's start on it.
func (r *runner) archiveOnce(ctx context.Context, n int) archiveRun {
	run := archiveRun{Events: n, WindowKeys: min(n, r.cfg.ArchiveWindowKeys)}
	logDir := filepath.Join(r.runDir, fmt.Sprintf("archive-%d", n))
	tmp, cleanup, err := tempDir()
	if err != nil {
		run.Error = err.Error()
		return run
	}
	defer cleanup()
	dataDir := filepath.Join(tmp, "data")
	render := func(port int, sinkURL string) string {
		return scaleConfig(dataDir, port, archiveBus(n), sinkTarget("sink", sinkURL), forwardRule("forward", "sink"))
	}
	if n > 0 {
		if err := os.MkdirAll(dataDir, 0o755); err != nil {
			run.Error = err.Error()
			return run
		}
		start := time.Now()
		// The prefill's events are of a type no rule matches: they are
		// archived, and the router settles them without a delivery.
		run.Archived, err = prefillArchive(ctx, render(0, "http://127.0.0.1:9/"), n, run.WindowKeys)
		run.PrefillS = time.Since(start).Seconds()
		if err != nil {
			run.Error = "prefill: " + err.Error()
			return run
		}
	}
	r.waitQuiet(ctx)
	e, _, took, err := r.startScaleEnv(ctx, logDir, dataDir, render)
	if err != nil {
		run.Error = err.Error()
		return run
	}
	defer e.close()
	run.StartupS = took.Seconds()
	run.RSS, run.HWM = idleRSS(ctx, e.box.proc.pid())
	if b, err := os.ReadFile(e.box.proc.logPath); err == nil {
		run.KeysLoaded = keysLoaded(string(b))
	}
	return run
}

var keysLoadedRE = regexp.MustCompile(`dedup keys loaded.*?from_snapshot["=:]*\s*(\d+).*?from_archive["=:]*\s*(\d+)`)

// keysLoaded finds the bus's "dedup keys loaded" log line and returns
// "<snapshot> + <archive>", or "" when it is not there.
func keysLoaded(log string) string {
	m := keysLoadedRE.FindStringSubmatch(log)
	if m == nil {
		return ""
	}
	return m[1] + " + " + m[2]
}

// prefillBatch is how many events one Publish call stores.
const prefillBatch = 256

// prefillArchive starts a bridge in this process with configuration text,
// publishes n events straight to its bus (4 publishers, batches of
// prefillBatch), the last window of them with deduplication, waits until
// the router has settled them all, and stops it. It returns the number of
// messages in the archive.
func prefillArchive(ctx context.Context, text string, n, window int) (uint64, error) {
	cfg, err := ebconfig.Parse([]byte(text))
	if err != nil {
		return 0, errors.New(ebconfig.String(err))
	}
	b := server.New(cfg, slog.New(slog.DiscardHandler))
	if err := b.Start(ctx); err != nil {
		return 0, err
	}
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		return b.Stop(sctx)
	}
	defer func() { _ = stop() }()
	prefix := loadgen.RandomPrefix()
	publish := func(from, to int, dedup bool) error {
		jobs := make(chan int)
		errs := make(chan error, 4)
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for i := range jobs {
					batch := make([]*ce.Event, 0, prefillBatch)
					for j := i; j < min(i+prefillBatch, to); j++ {
						batch = append(batch, prefillEvent(prefix, j))
					}
					var err error
					if dedup {
						_, err = b.Bus().Publish(ctx, "in", batch)
					} else {
						err = b.Bus().PublishNoDedup(ctx, "in", batch)
					}
					if err != nil {
						errs <- err
						return
					}
				}
			})
		}
		var err error
	feed:
		for i := from; i < to; i += prefillBatch {
			select {
			case jobs <- i:
			case err = <-errs:
				break feed
			case <-ctx.Done():
				err = ctx.Err()
				break feed
			}
		}
		close(jobs)
		wg.Wait()
		if err == nil {
			select {
			case err = <-errs:
			default:
			}
		}
		return err
	}
	if err := publish(0, n-window, false); err != nil {
		return 0, err
	}
	if err := publish(n-window, n, true); err != nil {
		return 0, err
	}
	// Wait until the router has settled every event (WORK empty), so the
	// bridge under test starts with an archive, not a backlog.
	deadline := time.Now().Add(10 * time.Minute)
	var archived uint64
	for {
		st := b.Bus().StreamStats(ctx)
		archived = st[bus.StreamEvents].Msgs
		if st[bus.StreamWork].Msgs == 0 {
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return archived, fmt.Errorf("%d events still in WORK after 10 minutes", st[bus.StreamWork].Msgs)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return archived, stop()
}

// prefillEvent is event i of the prefill: the load generator's body, a
// type that no rule of the scenario matches.

func prefillEvent(prefix string, i int) *ce.Event {
	e := ce.New()
	e.SetID(prefix + strconv.Itoa(i))
	e.SetSource(loadgen.DefaultSource)
	e.SetType("bench.archive.prefill")
	e.SetTime(time.Now())
	e.SetDataContentType("application/json")
	e.DataEncoded = loadgen.Body // as the HTTP source stores a JSON body
	return &e
}
