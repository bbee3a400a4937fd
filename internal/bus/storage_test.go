package bus

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats-server/v2/server"

	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

// openOn opens a bus with cfg on dir and closes it when the test ends.
func openOn(t *testing.T, cfg Config) *Bus {
	t.Helper()
	cfg.Defaults()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := Open(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

// publishOne publishes one event and says how long it took.
func publishOne(b *Bus, id string) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	_, err := b.Publish(ctx, "in", []*ce.Event{testEvent(id)})
	return time.Since(start), err
}

// untilStored publishes id until it is stored and returns how long that took.
func untilStored(t *testing.T, b *Bus, id string, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		_, err := publishOne(b, id)
		if err == nil {
			return time.Since(start)
		}
		if time.Since(start) > within {
			t.Fatalf("not stored within %s after space came back: %v", within, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A full disk refuses events at once with ErrStorageFull, says so in the
// storage component's health, and takes events again once space is back,
// without reopening; the events stored before are still there.
func TestFullDiskRefusesFastAndRecovers(t *testing.T) {
	dir := testkit.Tmpfs(t, 16<<20)
	b := openOn(t, Config{DataDir: dir})
	for _, id := range []string{"a", "b", "c"} {
		if _, err := publishOne(b, id); err != nil {
			t.Fatal(err)
		}
	}
	filler := testkit.FillDisk(t, dir)
	filled := time.Now()

	// The first publish may be written before the guard looks; from then
	// on every publish is refused at once.
	var took time.Duration
	for {
		d, err := publishOne(b, "late")
		if errors.Is(err, ErrStorageFull) {
			took = time.Since(filled)
			break
		}
		if time.Since(filled) > 5*time.Second {
			t.Fatalf("still no ErrStorageFull 5s after the disk filled: %v", err)
		}
		_ = d
	}
	d, err := publishOne(b, "refused")
	if !errors.Is(err, ErrStorageFull) || d > time.Second {
		t.Fatalf("publish on a full disk: %v after %s; want ErrStorageFull at once", err, d)
	}
	if !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "disk_reserve") {
		t.Errorf("the error does not name the disk and the setting: %v", err)
	}
	h := b.Storage().Health()
	if h.State != component.Failed || !strings.Contains(h.LastError, "data_dir") {
		t.Errorf("storage health on a full disk: %+v", h)
	}
	t.Logf("time to refuse: %s after the disk filled (then %s per refused publish)", took.Round(time.Millisecond), d.Round(time.Microsecond))

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	rec := untilStored(t, b, "after", 20*time.Second)
	t.Logf("time to recover: %s after space was freed", rec.Round(time.Millisecond))
	if h := b.Storage().Health(); h.State != component.Running {
		t.Errorf("storage health after recovery: %+v", h)
	}
	for _, name := range []string{StreamEvents} { // the one write of an embedded bus
		if n := msgs(t, b, name); n < 4 {
			t.Errorf("%s holds %d events, want the 3 stored before and the one after", name, n)
		}
	}
}

// When the disk fills before the guard sees it (no reserve), the file
// store keeps its write error and answers no publish; the guard finds the
// error, refuses events, and restarts JetStream in-process once space is
// back, after which the bus stores again.
func TestWriteErrorHealsWithoutReopen(t *testing.T) {
	dir := testkit.Tmpfs(t, 16<<20)
	b := openOn(t, Config{DataDir: dir})
	if _, err := publishOne(b, "before"); err != nil {
		t.Fatal(err)
	}
	b.storage.mu.Lock()
	b.storage.reserve = 0 // the guard will not see the disk fill up
	b.storage.mu.Unlock()
	filler := testkit.FillDisk(t, dir)
	filled := time.Now()
	big := testEvent("big")
	_ = big.SetData("application/octet-stream", make([]byte, 256<<10))
	var err error
	for time.Since(filled) < 15*time.Second {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err = b.Publish(ctx, "in", []*ce.Event{big})
		cancel()
		if errors.Is(err, ErrStorageFull) {
			break
		}
	}
	if !errors.Is(err, ErrStorageFull) {
		t.Fatalf("publishing on a full disk: %v, want ErrStorageFull", err)
	}
	t.Logf("write error found %s after the disk filled: %v", time.Since(filled).Round(time.Millisecond), err)
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	rec := untilStored(t, b, "after", 20*time.Second)
	t.Logf("time to recover: %s after space was freed", rec.Round(time.Millisecond))
	if n := msgs(t, b, StreamEvents); n < 2 {
		t.Errorf("EVENTS holds %d events, want the one stored before and the one after", n)
	}
}

// With the defaults the bus opens on a small disk, sized to it, and opens
// again there; an archive that cannot fit fails with the setting to change.
func TestOpenSizesToSmallDisk(t *testing.T) {
	dir := testkit.Tmpfs(t, 16<<20)
	b := openOn(t, Config{DataDir: dir})
	got := b.Config()
	if got.Archive.MaxBytes < MinArchiveBytes || got.Archive.MaxBytes > 8<<20 {
		t.Errorf("archive sized to %d bytes on a 16MiB disk", got.Archive.MaxBytes)
	}
	if got.DiskReserve != 2<<20 {
		t.Errorf("reserve %d, want 2MiB", got.DiskReserve)
	}
	if _, err := publishOne(b, "a"); err != nil {
		t.Fatal(err)
	}
	b.Close()
	b = openOn(t, Config{DataDir: dir})
	if n := msgs(t, b, StreamEvents); n != 1 {
		t.Errorf("EVENTS holds %d after reopening, want 1", n)
	}
	b.Close()

	cfg := Config{DataDir: dir, Archive: ArchiveConfig{MaxBytes: 1 << 30}}
	cfg.Defaults()
	_, err := Open(context.Background(), cfg, nil)
	if err == nil || !strings.Contains(err.Error(), "bus.archive.max_bytes") {
		t.Fatalf("opening a 1GiB archive on a 16MiB disk: %v; want an error naming bus.archive.max_bytes", err)
	}
}

func TestPlanStorage(t *testing.T) {
	const mi = 1 << 20
	for _, c := range []struct {
		name                        string
		archive, reserve            int64
		total, free, used, archived int64
		wantArchive, wantMaxStore   int64
		wantErr                     string
	}{
		{name: "large disk", total: 100 << 30, free: 50 << 30, wantArchive: 1 << 30, wantMaxStore: 49 << 30},
		{name: "small disk", total: 16 * mi, free: 16 * mi, wantArchive: 7 * mi, wantMaxStore: 14 * mi},
		{name: "used counts", total: 16 * mi, free: 6 * mi, used: 10 * mi, wantArchive: 7 * mi, wantMaxStore: 14 * mi},
		{name: "archive kept at a restart on a full disk", total: 16 * mi, free: 0, used: 12 * mi, archived: 7 * mi, wantArchive: 7 * mi, wantMaxStore: 10 * mi},
		{name: "archive at most the store", total: 16 * mi, free: 0, used: 12 * mi, archived: 11 * mi, wantArchive: 10 * mi, wantMaxStore: 10 * mi},
		{name: "configured", archive: 4 * mi, total: 16 * mi, free: 16 * mi, wantArchive: 4 * mi, wantMaxStore: 14 * mi},
		{name: "reserve", reserve: 8 * mi, total: 16 * mi, free: 16 * mi, wantArchive: 4 * mi, wantMaxStore: 8 * mi},
		{name: "archive too big", archive: 1 << 30, total: 16 * mi, free: 16 * mi, wantErr: "set bus.archive.max_bytes (now 1.0GiB) to at most 14.0MiB"},
		{name: "no room", total: 16 * mi, free: 3 * mi, wantErr: "lower bus.disk_reserve"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := Config{DataDir: "/d", Archive: ArchiveConfig{MaxBytes: spec.ByteSize(c.archive)}, DiskReserve: spec.ByteSize(c.reserve)}
			p, err := planStorage(cfg, c.total, c.free, c.used, c.archived)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err %v, want one with %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.archive != c.wantArchive || p.maxStore != c.wantMaxStore {
				t.Errorf("archive %d, max_file_store %d; want %d, %d", p.archive, p.maxStore, c.wantArchive, c.wantMaxStore)
			}
		})
	}
}

// The archive's files stay within archive.max_bytes while the oldest
// events leave it (the file store keeps the space of dropped events until
// their whole block is gone).
func TestArchiveStaysWithinMaxBytesOnDisk(t *testing.T) {
	const limit = 8 << 20
	b := openOn(t, Config{DataDir: t.TempDir(), Archive: ArchiveConfig{MaxBytes: limit}})
	_, work := stream(t, b, StreamWork)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	data := make([]byte, 8<<10)
	archiveDir := filepath.Join(b.cfg.DataDir, "jetstream", "$G", "streams", StreamEvents)
	var most int64
	for i := range 2400 { // about 19MiB: more than twice the limit
		e := testEvent(fmt.Sprintf("e%d", i))
		_ = e.SetData("application/octet-stream", data)
		if _, err := b.Publish(ctx, "in", []*ce.Event{e}); err != nil {
			t.Fatal(err)
		}
		if i%100 == 99 {
			if err := work.Purge(ctx); err != nil { // as if routed
				t.Fatal(err)
			}
			most = max(most, dirSize(archiveDir))
		}
	}
	t.Logf("archive on disk: at most %s (%d bytes) for a limit of %s", human(most), most, human(limit))
	if most > limit {
		t.Errorf("the archive's files reached %d bytes, over archive.max_bytes %d", most, limit)
	}
	if n := msgs(t, b, StreamEvents); n < 300 {
		t.Errorf("the archive keeps only %d events of 8KiB", n)
	}
}

// On an external cluster the archive keeps the configured or default
// size: the disks are the cluster's.
func TestExternalArchiveSize(t *testing.T) {
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoSigs: true, NoLog: true})
	if err != nil {
		t.Fatal(err)
	}
	srv.Start()
	t.Cleanup(srv.Shutdown)
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	b := openOn(t, Config{URL: srv.ClientURL()})
	if b.Storage() != nil {
		t.Error("a storage guard for an external cluster")
	}
	ctx, s := stream(t, b, StreamEvents)
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Config.MaxBytes != defaultArchiveBytes {
		t.Errorf("EVENTS MaxBytes %d on an external cluster, want %d", info.Config.MaxBytes, defaultArchiveBytes)
	}
}
