package state

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

func openBusAt(t *testing.T, dir string, edit func(*bus.Config)) *bus.Bus {
	t.Helper()
	cfg := bus.Config{DataDir: dir}
	if edit != nil {
		edit(&cfg)
	}
	cfg.Defaults()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	b, err := bus.Open(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

func consumerExists(t *testing.T, b *bus.Bus) bool {
	t.Helper()
	_, err := b.JetStream().Consumer(context.Background(), bus.StreamEvents, ConsumerName)
	if err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		t.Fatal(err)
	}
	return err == nil
}

func checkpoint(t *testing.T, b *bus.Bus, s *Store) (uint64, bool) {
	t.Helper()
	ctx := context.Background()
	created, err := b.ArchiveCreated(ctx)
	if err != nil {
		t.Fatal(err)
	}
	seq, found, err := s.loadCheckpoint(ctx, created.UnixNano())
	if err != nil {
		t.Fatal(err)
	}
	return seq, found
}

// On the embedded bus the feed takes events from Publish: no consumer of
// EVENTS, the entry is there right after the publish, and the checkpoint
// follows.
func TestLocalFeedAppliesFromPublish(t *testing.T) {
	b := openBus(t)
	s := openStore(t, b, Config{})
	ctx := context.Background()
	if err := s.StartFeed(ctx, nil); err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		publish(t, b, "web", event(fmt.Sprint(i), "/n", fmt.Sprint(i%5), map[string]int{"v": i}))
	}
	testkit.Eventually(t, 60*time.Second, func() bool {
		e, err := s.Get(ctx, "/n", "4")
		return err == nil && e.Event.ID() == "49"
	}, "last event not kept")
	settled(t, b, s)
	if consumerExists(t, b) {
		t.Fatal("the local feed made the consumer of EVENTS")
	}
	testkit.Eventually(t, 60*time.Second, func() bool {
		seq, ok := checkpoint(t, b, s)
		return ok && seq == 50
	}, "checkpoint not saved at the archive's end")
	if l, err := s.List(ctx, Query{}); err != nil || len(l) != 5 {
		t.Fatalf("list: %d entries (the checkpoint is not one), %v", len(l), err)
	}
	if pending, writing, local, ok := s.FeedLag(); !ok || !local || pending != 0 || writing != 0 {
		t.Fatalf("lag %d %d local %v ok %v", pending, writing, local, ok)
	}
}

// A crash (the bus goes away, the feed is not stopped) with events stored
// but not applied: after a restart they are read back from the
// checkpoint, and the state is right.
func TestLocalFeedCrashRestartReadsBack(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "bus")
	b := openBusAt(t, dir, nil)
	s := openStore(t, b, Config{})
	ctx := context.Background()
	gate := make(chan struct{})
	keys := func(ctx context.Context, res string) (string, error) {
		if res == "slow" {
			select { // the feed is stuck here when the bridge crashes
			case <-gate:
			case <-ctx.Done():
			}
		}
		return "", nil
	}
	if err := s.StartFeed(ctx, keys); err != nil {
		t.Fatal(err)
	}
	publish(t, b, "web", event("a1", "/a", "", map[string]int{"v": 1}))
	testkit.Eventually(t, 60*time.Second, func() bool {
		seq, ok := checkpoint(t, b, s)
		return ok && seq == 1
	}, "checkpoint not saved")
	publish(t, b, "slow", event("b2", "/b", "", map[string]int{"v": 2}))
	publish(t, b, "web", event("a3", "/a", "", map[string]int{"v": 3}))
	b.Close() // the crash
	close(gate)
	s.StopFeed() // ends the old feed's goroutines; nothing was applied

	b2 := openBusAt(t, dir, nil)
	s2 := openStore(t, b2, Config{})
	if seq, _ := checkpoint(t, b2, s2); seq != 1 {
		t.Fatalf("checkpoint %d after the crash, want 1", seq)
	}
	if e, err := s2.Get(ctx, "/a", ""); err != nil || e.Event.ID() != "a1" {
		t.Fatalf("before the restart of the feed: %+v %v", e, err)
	}
	if err := s2.StartFeed(ctx, nil); err != nil {
		t.Fatal(err)
	}
	settled(t, b2, s2)
	if e, err := s2.Get(ctx, "/a", ""); err != nil || e.Event.ID() != "a3" || e.Seq != 3 {
		t.Fatalf("/a after the restart: %+v %v", e, err)
	}
	if e, err := s2.Get(ctx, "/b", ""); err != nil || e.Event.ID() != "b2" || e.Resource != "slow" {
		t.Fatalf("/b after the restart: %+v %v", e, err)
	}
	// Live events go on beside.
	publish(t, b2, "web", event("a4", "/a", "", nil))
	testkit.Eventually(t, 60*time.Second, func() bool {
		e, err := s2.Get(ctx, "/a", "")
		return err == nil && e.Event.ID() == "a4"
	}, "live event after the restart not kept")
}

// A bridge of an earlier release fed the state with the durable consumer:
// the local feed goes on from its ack floor (not from the start of the
// archive: an entry deleted since stays deleted), then deletes it.
func TestLocalFeedMigratesFromTheConsumer(t *testing.T) {
	b := openBus(t)
	ctx := context.Background()
	old := openStore(t, b, Config{})
	old.consumerFeed = true
	if err := old.StartFeed(ctx, nil); err != nil {
		t.Fatal(err)
	}
	publish(t, b, "web", event("m1", "/m", "", nil), event("g1", "/gone", "", nil))
	settled(t, b, old)
	old.StopFeed()
	if !consumerExists(t, b) {
		t.Fatal("no consumer after the consumer feed")
	}
	if err := old.Delete(ctx, DefaultKey("/gone", "")); err != nil {
		t.Fatal(err)
	}
	publish(t, b, "web", event("m3", "/m", "", nil))

	s := openStore(t, b, Config{})
	if err := s.StartFeed(ctx, nil); err != nil {
		t.Fatal(err)
	}
	settled(t, b, s)
	if e, err := s.Get(ctx, "/m", ""); err != nil || e.Event.ID() != "m3" {
		t.Fatalf("/m: %+v %v", e, err)
	}
	if _, err := s.Get(ctx, "/gone", ""); !errors.Is(err, ErrNotFound) {
		t.Fatalf("/gone is back (read from the start of the archive?): %v", err)
	}
	if consumerExists(t, b) {
		t.Fatal("the consumer of earlier releases is still there")
	}
	if seq, ok := checkpoint(t, b, s); !ok || seq < 2 {
		t.Fatalf("checkpoint %d %v after the migration", seq, ok)
	}
}

// An event the archive holds but Publish never handed to the feed (a
// publish that failed after the archive stored it, or another writer) is
// read back at the next check: the mark does not stop behind it.
func TestLocalFeedReadsBackWhatPublishDidNotHand(t *testing.T) {
	b := openBus(t)
	s := openStore(t, b, Config{})
	ctx := context.Background()
	if err := s.StartFeed(ctx, nil); err != nil {
		t.Fatal(err)
	}
	publish(t, b, "web", event("1", "/o", "x", nil))
	raw, err := event("2", "/o", "y", map[string]int{"v": 2}).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	m := nats.NewMsg(b.SubjectName(bus.EventSubject("web", "com.example.changed")))
	m.Header.Set(bus.HdrSource, "web")
	m.Data = raw
	if _, err := b.JetStream().PublishMsg(ctx, m); err != nil {
		t.Fatal(err)
	}
	publish(t, b, "web", event("3", "/o", "z", nil))
	settled(t, b, s)
	if e, err := s.Get(ctx, "/o", "y"); err != nil || e.Event.ID() != "2" || e.Seq != 2 {
		t.Fatalf("event stored beside Publish: %+v %v", e, err)
	}
}

// On an external cluster (bus.url), and on an embedded bus that listens,
// the feed keeps the durable consumer.
func TestClusterModeUsesTheConsumer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	srv := openBusAt(t, filepath.Join(t.TempDir(), "server"), func(c *bus.Config) { c.Listen = addr })
	if srv.StateFeedLocal() {
		t.Fatal("an embedded bus that listens (other bridges may publish to it) feeds the state in process")
	}
	b := openBusAt(t, "", func(c *bus.Config) { c.URL = "nats://" + addr })
	if b.StateFeedLocal() {
		t.Fatal("a bus on an external cluster feeds the state in process")
	}
	s := openStore(t, b, Config{})
	ctx := context.Background()
	if err := s.StartFeed(ctx, nil); err != nil {
		t.Fatal(err)
	}
	publish(t, b, "web", event("c1", "/c", "", nil))
	testkit.Eventually(t, 60*time.Second, func() bool {
		e, err := s.Get(ctx, "/c", "")
		return err == nil && e.Event.ID() == "c1"
	}, "event not kept")
	if !consumerExists(t, b) {
		t.Fatal("no durable consumer on the external cluster")
	}
	if _, _, local, ok := s.FeedLag(); !ok || local {
		t.Fatalf("feed local %v ok %v", local, ok)
	}
}

// A checkpoint past the archive's end (the archive lost its end in an OS
// crash) is taken back to the end: later events are applied and counted.
func TestLocalFeedCheckpointPastTheArchiveEnd(t *testing.T) {
	b := openBus(t)
	s := openStore(t, b, Config{})
	ctx := context.Background()
	publish(t, b, "web", event("1", "/p", "", nil))
	created, err := b.ArchiveCreated(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.saveCheckpoint(ctx, created.UnixNano(), 100); err != nil {
		t.Fatal(err)
	}
	if err := s.StartFeed(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if low := s.appliedThrough(); low > 1 {
		t.Fatalf("applied through %d, want at most the archive's end 1", low)
	}
	publish(t, b, "web", event("2", "/p", "", nil))
	settled(t, b, s)
	testkit.Eventually(t, 60*time.Second, func() bool {
		seq, _ := checkpoint(t, b, s)
		return seq == 2
	}, "checkpoint not taken back to the archive")
	if e, err := s.Get(ctx, "/p", ""); err != nil || e.Event.ID() != "2" {
		t.Fatalf("/p: %+v %v", e, err)
	}
}

// A start over a larger archive reads it back (several fetches) while
// live events of the same keys flow: every key ends with its last event.
func TestLocalFeedReadBackBesideLiveEvents(t *testing.T) {
	b := openBus(t)
	s := openStore(t, b, Config{})
	ctx := context.Background()
	const keys = 50
	lastOf := map[string]string{}
	send := func(from, to int) {
		for i := from; i < to; i += 10 {
			var es []*ce.Event
			for j := i; j < i+10; j++ {
				k := fmt.Sprint(j % keys)
				es = append(es, event(fmt.Sprint(j), "/r", k, map[string]int{"v": j}))
			}
			publish(t, b, "web", es...)
		}
	}
	send(0, 1500)
	if err := s.StartFeed(ctx, nil); err != nil {
		t.Fatal(err)
	}
	send(1500, 2000)
	for j := range 2000 {
		lastOf[fmt.Sprint(j%keys)] = fmt.Sprint(j)
	}
	settled(t, b, s)
	for k, id := range lastOf {
		if e, err := s.Get(ctx, "/r", k); err != nil || e.Event.ID() != id {
			t.Fatalf("key %s: %+v %v, want event %s", k, e, err, id)
		}
	}
}
