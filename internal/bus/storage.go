package bus

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/eventbridge-dev/eventbridge/internal/component"
)

// MinArchiveBytes is the smallest archive (bus.archive.max_bytes).
const MinArchiveBytes = 1 << 20

// defaultArchiveBytes is the archive's size when the disk has room for it.
const defaultArchiveBytes = 1 << 30

// storageCheckInterval is how often the guard reads the disk's free space;
// the embedded server's write errors are read every fourth check.
const storageCheckInterval = 250 * time.Millisecond

// storagePlan is how much of data_dir's filesystem the embedded store may
// use, decided when the bus opens.
type storagePlan struct {
	total, free, used int64 // the filesystem's size and free bytes; the store's files
	reserve           int64 // free space kept: ingest stops below it
	maxStore          int64 // the server's max_file_store
	archive           int64 // bus.archive.max_bytes: the archive's budget on disk
	archiveAuto       bool  // archive was chosen here, not configured
}

// defaultReserve is bus.disk_reserve's default for a filesystem of total
// bytes: 5%, at least 2MiB, at most 1GiB.
func defaultReserve(total int64) int64 {
	return min(max(total/20, 2<<20), 1<<30)
}

// planStorage sizes the store to the disk it finds: the reserve, the
// server's max_file_store (what the store has and what is free, less the
// reserve) and, unless configured, the archive (half of max_file_store, at
// most 1GiB, but not less than the archive's files, archived: a disk that
// is full at a restart must not make the archive drop events). It fails
// with the setting to change when they do not fit.
func planStorage(cfg Config, total, free, used, archived int64) (storagePlan, error) {
	p := storagePlan{total: total, free: free, used: used, reserve: int64(cfg.DiskReserve), archive: int64(cfg.Archive.MaxBytes)}
	if p.reserve == 0 {
		p.reserve = defaultReserve(total)
	}
	p.maxStore = free + used - p.reserve
	room := fmt.Sprintf("data_dir %s: its filesystem has %s free, the store uses %s and bus.disk_reserve keeps %s free",
		cfg.DataDir, human(free), human(used), human(p.reserve))
	if p.maxStore < 2*MinArchiveBytes {
		return p, fmt.Errorf("bus: %s, which leaves %s for the store, less than the %s it needs: free space, give data_dir a larger filesystem, or lower bus.disk_reserve",
			room, human(max(p.maxStore, 0)), human(2*MinArchiveBytes))
	}
	if p.archive == 0 {
		p.archiveAuto = true
		p.archive = min(max(min(defaultArchiveBytes, p.maxStore/2), archived), p.maxStore)
	} else if p.archive > p.maxStore {
		return p, fmt.Errorf("bus: %s, which leaves %s for the store: set bus.archive.max_bytes (now %s) to at most %s (half of it leaves room for queued events), or free space",
			room, human(p.maxStore), human(p.archive), human(p.maxStore))
	}
	return p, nil
}

// archiveStreamBytes is the MaxBytes of the EVENTS stream whose files stay
// within disk bytes. The file store counts only live messages: the first
// block keeps the space of the messages dropped from its head until all of
// them are gone, so the files can exceed MaxBytes by one block (whose size
// the server derives from MaxBytes, see blockSizeFor), plus index files.
func archiveStreamBytes(disk int64) int64 {
	overhead := 64<<10 + disk/64
	for _, blk := range []int64{8 << 20, 4 << 20} {
		if m := disk - overhead - blk; m > 0 && blockSizeFor(m) == blk {
			return m
		}
	}
	// Small archives get the server's smallest blocks, which it uses only
	// up to about 128KB of MaxBytes.
	return max(min(disk-overhead-32000, 127_900), 1)
}

// blockSizeFor is the block size nats-server (v2.15, dynBlkSize) gives a
// file-stored stream with MaxBytes m > 0.
func blockSizeFor(m int64) int64 {
	b := m/4 + 1
	if r := b % 100; r != 0 {
		b += 100 - r
	}
	switch {
	case b <= 32000:
		return 32000
	case b >= 8<<20:
		return 8 << 20
	}
	return 4 << 20
}

// human writes n bytes for people: 512B, 1.5KiB, 2.0MiB, 3.1GiB.
func human(n int64) string {
	const unit = 1 << 10
	if n < unit {
		return fmt.Sprintf("%dB", n)
	}
	f, u := float64(n)/unit, 0
	for f >= unit && u < 3 {
		f /= unit
		u++
	}
	return fmt.Sprintf("%.1f%s", f, [...]string{"KiB", "MiB", "GiB", "TiB"}[u])
}

// dirSize is the bytes of the files under dir (none if it does not exist).
func dirSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if info, err := d.Info(); err == nil {
			n += info.Size()
		}
		return nil
	})
	return n
}

// storageGuard watches the embedded store's disk. Below the reserve, or
// when the server reports that a stream could not write, it marks storage
// full: Publish then fails at once with ErrStorageFull and the guard's
// health (the "storage" component of /readyz) says why. Once space is back
// it clears the mark; if the server had stopped writing (a stream keeps its
// write error until reloaded, and JetStream may have disabled itself), it
// restarts JetStream in the same process first. One log line per change.
type storageGuard struct {
	dir      string // data_dir
	reserve  int64
	srv      *server.Server
	jsCfg    server.JetStreamConfig // to enable JetStream again
	log      *slog.Logger
	interval time.Duration
	statfs   func(dir string) (total, free int64, err error)

	mu      sync.Mutex
	err     error         // why storage is full; nil when it is not
	full    chan struct{} // closed when err becomes non-nil
	since   time.Time     // when err became non-nil
	restart bool          // JetStream must be restarted once space is back
	tried   time.Time     // the last restart
	hooks   []func()      // called after a restart

	stop chan struct{}
	done chan struct{}

	component.Tracker
}

func newStorageGuard(dir string, reserve int64, srv *server.Server, jsCfg server.JetStreamConfig, log *slog.Logger) *storageGuard {
	g := &storageGuard{
		dir: dir, reserve: reserve, srv: srv, jsCfg: jsCfg, log: log,
		interval: storageCheckInterval, statfs: statfs,
		full: make(chan struct{}),
		stop: make(chan struct{}), done: make(chan struct{}),
	}
	g.SetDetail("reserve", human(reserve))
	g.Set(component.Running, nil)
	return g
}

// state returns a channel closed when storage becomes full, and why it is
// full now (nil if it is not).
func (g *storageGuard) state() (<-chan struct{}, error) {
	if g == nil {
		return nil, nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.full, g.err
}

func (g *storageGuard) run() {
	defer close(g.done)
	t := time.NewTicker(g.interval)
	defer t.Stop()
	for n := 0; ; n++ {
		g.check(n%4 == 0)
		select {
		case <-g.stop:
			return
		case <-t.C:
		}
	}
}

func (g *storageGuard) close() {
	select {
	case <-g.stop:
	default:
		close(g.stop)
	}
	<-g.done
}

// check reads the free space and, when server is set, the server's write
// errors, and changes the state when they say so.
func (g *storageGuard) check(server bool) {
	total, free, err := g.statfs(g.dir)
	if err != nil {
		return // nothing known: keep the state
	}
	g.SetDetail("free", human(free))
	g.SetDetail("size", human(total))
	g.mu.Lock()
	wasFull, restart, reserve := g.err != nil, g.restart, g.reserve
	g.mu.Unlock()
	// Once full, wait for half a reserve more than the reserve, so that a
	// disk at the edge does not flap.
	low := free < reserve || (wasFull && free < reserve+reserve/2)
	var writeErr error
	if server || wasFull {
		writeErr = g.serverWriteError()
	}
	switch {
	case low:
		g.setFull(fmt.Errorf("%w: the disk of data_dir %s has %s free, under the reserve of %s (bus.disk_reserve)",
			ErrStorageFull, g.dir, human(max(free, 0)), human(reserve)), writeErr)
	case writeErr != nil && !wasFull:
		g.setFull(fmt.Errorf("%w: the store cannot write to data_dir %s", ErrStorageFull, g.dir), writeErr)
	case writeErr != nil || restart:
		// Space is back but the server still refuses to write. Restart
		// at most once a second: a write error that is not about space
		// would come back at once.
		start := time.Now()
		if start.Sub(g.tried) < time.Second {
			return
		}
		g.tried = start
		if err := g.restartJetStream(); err != nil {
			g.log.Error("cannot restart JetStream after the disk had room again", "data_dir", g.dir, "err", err)
			return
		}
		g.mu.Lock()
		g.restart = false
		hooks := g.hooks
		g.mu.Unlock()
		for _, f := range hooks {
			f()
		}
		g.log.Info("JetStream restarted in-process: the store writes again", "data_dir", g.dir, "took", time.Since(start).Round(time.Millisecond))
		g.setOK(free)
	case wasFull:
		g.setOK(free)
	}
}

// setFull marks storage full for the reason why; writeErr, when not nil,
// is a write the server failed, which it heals only by a restart. A write
// error found while already full is a change of state too.
func (g *storageGuard) setFull(why, writeErr error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if writeErr != nil && !g.restart {
		g.restart = true
		why = fmt.Errorf("%w; a stream failed a write (JetStream restarts once there is room): %w", why, writeErr)
		if g.err != nil {
			g.err = why
			g.Set(component.Failed, why)
			g.log.Warn("storage full: a stream failed a write; JetStream restarts once there is room", "err", writeErr.Error())
			return
		}
	}
	if g.err != nil {
		return
	}
	g.err, g.since = why, time.Now()
	close(g.full)
	g.Set(component.Failed, why)
	g.log.Warn("storage full: refusing events until there is room", "reason", why.Error())
}

func (g *storageGuard) setOK(free int64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.err == nil {
		return
	}
	g.err = nil
	g.full = make(chan struct{})
	g.Set(component.Running, nil)
	g.log.Info("storage has room again: accepting events", "data_dir", g.dir, "free", human(free), "after", time.Since(g.since).Round(time.Millisecond))
}

// serverWriteError reports whether JetStream is disabled or a stream holds
// a write error (the file store keeps it, and refuses every later write,
// until the stream is loaded again).
func (g *storageGuard) serverWriteError() error {
	if g.srv == nil {
		return nil
	}
	if !g.srv.JetStreamEnabled() {
		return fmt.Errorf("JetStream is disabled")
	}
	hs := g.srv.Healthz(&server.HealthzOptions{Details: true})
	for _, e := range hs.Errors {
		if e.Type == server.HealthzErrorStream && strings.Contains(e.Error, "write error") {
			return fmt.Errorf("%s", e.Error)
		}
	}
	return nil
}

// restartJetStream stops JetStream if it runs and enables it again, which
// loads every stream from its files. Connections stay up.
func (g *storageGuard) restartJetStream() error {
	if g.srv.JetStreamEnabled() {
		if err := g.srv.ShutdownJetStream(); err != nil {
			return fmt.Errorf("shutdown: %w", err)
		}
	}
	cfg := g.jsCfg // EnableJetStream changes its argument
	if err := g.srv.EnableJetStream(&cfg); err != nil {
		return fmt.Errorf("enable: %w", err)
	}
	return nil
}

// Start implements component.Component; the bus runs the guard.
func (g *storageGuard) Start(context.Context) error { return nil }

// Stop implements component.Component; the bus stops the guard.
func (g *storageGuard) Stop(context.Context) error { return nil }

var _ component.Component = (*storageGuard)(nil)
