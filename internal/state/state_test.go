package state

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

func openBus(t *testing.T) *bus.Bus {
	t.Helper()
	cfg := bus.Config{DataDir: t.TempDir()}
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

func openStore(t *testing.T, b *bus.Bus, cfg Config) *Store {
	t.Helper()
	cfg.Defaults()
	s, err := Open(context.Background(), b, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.checkpointEvery = 200 * time.Millisecond
	t.Cleanup(s.StopFeed)
	return s
}

func event(id, source, subject string, data any) *ce.Event {
	e := ce.New()
	e.SetID(id)
	e.SetSource(source)
	e.SetType("com.example.changed")
	if subject != "" {
		e.SetSubject(subject)
	}
	if data != nil {
		_ = e.SetData("application/json", data)
	}
	return &e
}

func publish(t *testing.T, b *bus.Bus, resource string, events ...*ce.Event) {
	t.Helper()
	if _, err := b.Publish(context.Background(), resource, events); err != nil {
		t.Fatal(err)
	}
}

// settled waits until the feed has applied every event of the archive:
// its consumer has acknowledged them all, or (local feed) its low-water
// mark reached the archive's end.
func settled(t *testing.T, b *bus.Bus, s *Store) {
	t.Helper()
	if !s.consumerFeed {
		var low, last uint64
		testkit.Eventually(t, 60*time.Second, func() bool {
			var err error
			if _, last, err = b.Archive().Bounds(context.Background()); err != nil {
				return false
			}
			low = s.appliedThrough()
			return low >= last
		}, "local state feed not settled: applied through %d of %d", low, last)
		return
	}
	c, err := b.JetStream().Consumer(context.Background(), bus.StreamEvents, ConsumerName)
	if err != nil {
		t.Fatal(err)
	}
	var info *jetstream.ConsumerInfo
	testkit.Eventually(t, 60*time.Second, func() bool {
		info, err = c.Info(context.Background())
		return err == nil && info.NumPending == 0 && info.NumAckPending == 0
	}, "state consumer not settled: %+v %v", info, err)
}

func dataOf(t *testing.T, e *Entry) string {
	t.Helper()
	if e.Event == nil {
		t.Fatalf("entry %q has no event", e.Key)
	}
	return string(e.Event.Data())
}

func TestFeedKeepsTheLastEventPerSourceAndSubject(t *testing.T) {
	b := openBus(t)
	s := openStore(t, b, Config{})
	ctx := context.Background()
	publish(t, b, "web",
		event("1", "/nodes/a", "cpu", map[string]int{"v": 1}),
		event("2", "/nodes/a", "cpu", map[string]int{"v": 2}),
		event("3", "/nodes/a", "mem", map[string]int{"v": 3}),
		event("4", "/nodes/b", "", map[string]int{"v": 4}),
	)
	if err := s.StartFeed(ctx, nil); err != nil {
		t.Fatal(err)
	}
	publish(t, b, "web", event("5", "/nodes/a", "cpu", map[string]int{"v": 5}))
	testkit.Eventually(t, 60*time.Second, func() bool {
		e, err := s.Get(ctx, "/nodes/a", "cpu")
		return err == nil && dataOf(t, e) == `{"v":5}`
	}, "last event of (/nodes/a, cpu) not kept")
	settled(t, b, s)

	e, err := s.Get(ctx, "/nodes/a", "mem")
	if err != nil || dataOf(t, e) != `{"v":3}` || e.Resource != "web" || e.Seq == 0 || e.Key != "/nodes/a#mem" {
		t.Fatalf("(/nodes/a, mem): %+v %v", e, err)
	}
	e, err = s.Get(ctx, "/nodes/b", "")
	if err != nil || e.Event.ID() != "4" || e.Key != "/nodes/b" || e.Subject != "" {
		t.Fatalf("(/nodes/b): %+v %v", e, err)
	}
	if _, err := s.Get(ctx, "/nodes/b", "cpu"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("(/nodes/b, cpu): %v, want ErrNotFound", err)
	}

	all, err := s.List(ctx, Query{})
	if err != nil || len(all) != 3 {
		t.Fatalf("list: %d entries, %v", len(all), err)
	}
	for i := 1; i < len(all); i++ {
		if all[i].Updated.After(all[i-1].Updated) {
			t.Errorf("list not newest first: %v", all)
		}
	}
	a, err := s.List(ctx, Query{Source: "/nodes/a"})
	if err != nil || len(a) != 2 {
		t.Fatalf("list source /nodes/a: %d, %v", len(a), err)
	}
	one, err := s.List(ctx, Query{Source: "/nodes/a", Limit: 1})
	if err != nil || len(one) != 1 {
		t.Fatalf("limit 1: %d, %v", len(one), err)
	}
	if l, err := s.List(ctx, Query{Subject: "mem"}); err != nil || len(l) != 1 || l[0].Event.ID() != "3" {
		t.Fatalf("list subject mem: %v %v", l, err)
	}
	if l, err := s.List(ctx, Query{Resource: "other"}); err != nil || len(l) != 0 {
		t.Fatalf("list resource other: %v %v", l, err)
	}
	latest, err := s.Latest(ctx, "/nodes/a")
	if err != nil || latest.Event.ID() != "5" {
		t.Fatalf("latest /nodes/a: %+v %v", latest, err)
	}
	if _, err := s.Latest(ctx, "/nodes/none"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("latest of an unknown source: %v", err)
	}

	// Stopped, it catches up from where it left off.
	s.StopFeed()
	publish(t, b, "web", event("6", "/nodes/b", "", map[string]int{"v": 6}))
	if err := s.StartFeed(ctx, nil); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 60*time.Second, func() bool {
		e, err := s.Get(ctx, "/nodes/b", "")
		return err == nil && e.Event.ID() == "6"
	}, "not caught up after a restart of the feed")
}

// An event never replaces the entry of a newer one (higher EVENTS
// sequence), as when old events are taken again after a crash: with the
// slot cache warm, and with a cold one (a new process); for the local
// feed (read back from the checkpoint) and the consumer's.
func TestOlderEventNeverOverwritesNewer(t *testing.T) {
	for _, consumer := range []bool{false, true} {
		for _, cold := range []bool{false, true} {
			t.Run(fmt.Sprintf("consumer=%v/cold=%v", consumer, cold), func(t *testing.T) {
				b := openBus(t)
				s := openStore(t, b, Config{})
				s.consumerFeed = consumer
				ctx := context.Background()
				if err := s.StartFeed(ctx, nil); err != nil {
					t.Fatal(err)
				}
				publish(t, b, "web", event("old", "/dev/x", "temp", map[string]int{"v": 1}))
				publish(t, b, "web", event("new", "/dev/x", "temp", map[string]int{"v": 2}))
				testkit.Eventually(t, 60*time.Second, func() bool {
					e, err := s.Get(ctx, "/dev/x", "temp")
					return err == nil && e.Event.ID() == "new"
				}, "newest event not kept")
				newest, _ := s.Get(ctx, "/dev/x", "temp")
				s.StopFeed()

				// Hand the old event out again, without the new event: a
				// new consumer, or a checkpoint, from the start of EVENTS.
				js := b.JetStream()
				if consumer {
					if err := js.DeleteConsumer(ctx, bus.StreamEvents, ConsumerName); err != nil {
						t.Fatal(err)
					}
				} else {
					created, err := b.ArchiveCreated(ctx)
					if err != nil {
						t.Fatal(err)
					}
					if err := s.saveCheckpoint(ctx, created.UnixNano(), 0); err != nil {
						t.Fatal(err)
					}
				}
				str, err := js.Stream(ctx, bus.StreamEvents)
				if err != nil {
					t.Fatal(err)
				}
				if err := str.DeleteMsg(ctx, newest.Seq); err != nil {
					t.Fatal(err)
				}
				if cold {
					s = openStore(t, b, Config{})
					s.consumerFeed = consumer
				}
				if err := s.StartFeed(ctx, nil); err != nil {
					t.Fatal(err)
				}
				settled(t, b, s)
				e, err := s.Get(ctx, "/dev/x", "temp")
				if err != nil || e.Event.ID() != "new" || e.Seq != newest.Seq {
					t.Fatalf("after the old event came again: %+v %v; want the new one (seq %d)", e, err, newest.Seq)
				}
			})
		}
	}
}

func TestNamedKeysFromSourceTemplate(t *testing.T) {
	b := openBus(t)
	s := openStore(t, b, Config{})
	ctx := context.Background()
	var calls atomic.Int32
	keys := func(_ context.Context, res string) (string, error) {
		if res == "ran" {
			if calls.Add(1) == 1 { // the store is unavailable at first
				return "", errors.New("store unavailable")
			}
			return "{clustername}/{resourceid}", nil
		}
		return "", nil
	}
	if err := s.StartFeed(ctx, keys); err != nil {
		t.Fatal(err)
	}
	e1 := event("1", "/ran/a", "sync", map[string]int{"v": 1})
	e1.SetExtension("clustername", "c1")
	e1.SetExtension("resourceid", "ptp0")
	e2 := event("2", "/ran/b", "other", map[string]int{"v": 2}) // other source, same named key
	e2.SetExtension("clustername", "c1")
	e2.SetExtension("resourceid", "ptp0")
	lacking := event("3", "/ran/c", "sync", nil) // no extensions: default key
	publish(t, b, "ran", e1, e2, lacking)
	publish(t, b, "web", event("4", "/web", "s", nil))
	settled(t, b, s)

	e, err := s.GetKey(ctx, "c1/ptp0")
	if err != nil || e.Event.ID() != "2" || e.Source != "/ran/b" || e.Resource != "ran" {
		t.Fatalf("named key: %+v %v", e, err)
	}
	if _, err := s.Get(ctx, "/ran/a", "sync"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("an event with a named key is kept under its default key too: %v", err)
	}
	if e, err := s.Get(ctx, "/ran/c", "sync"); err != nil || e.Event.ID() != "3" {
		t.Fatalf("event lacking the template's attributes: %+v %v", e, err)
	}
	if e, err := s.Get(ctx, "/web", "s"); err != nil || e.Event.ID() != "4" {
		t.Fatalf("other resource: %+v %v", e, err)
	}
	if l, err := s.List(ctx, Query{KeyPrefix: "c1/"}); err != nil || len(l) != 1 {
		t.Fatalf("key prefix: %v %v", l, err)
	}
}

func TestPutGetDelete(t *testing.T) {
	b := openBus(t)
	s := openStore(t, b, Config{})
	ctx := context.Background()
	key := "oran/cluster-1/node.a/sync status" // characters KV keys do not allow
	if err := s.Put(ctx, key, "oran", event("p1", "/cluster/node/a", "", map[string]string{"state": "LOCKED"})); err != nil {
		t.Fatal(err)
	}
	e, err := s.GetKey(ctx, key)
	if err != nil || e.Key != key || e.Resource != "oran" || e.Seq != 0 || dataOf(t, e) != `{"state":"LOCKED"}` {
		t.Fatalf("get: %+v %v", e, err)
	}
	if err := s.Put(ctx, key, "oran", event("p2", "/cluster/node/a", "", map[string]string{"state": "FREERUN"})); err != nil {
		t.Fatal(err)
	}
	if e, err := s.GetKey(ctx, key); err != nil || e.Event.ID() != "p2" {
		t.Fatalf("replaced: %+v %v", e, err)
	}
	if e, err := s.Latest(ctx, "/cluster/node/a"); err != nil || e.Event.ID() != "p2" {
		t.Fatalf("latest: %+v %v", e, err)
	}
	if err := s.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetKey(ctx, key); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
	if l, err := s.List(ctx, Query{}); err != nil || len(l) != 0 {
		t.Fatalf("list after delete: %v %v", l, err)
	}
	if err := s.Delete(ctx, "never-there"); err != nil {
		t.Fatalf("delete of a missing key: %v", err)
	}
	if err := s.Put(ctx, "", "", event("x", "/s", "", nil)); err == nil {
		t.Fatal("put with an empty key accepted")
	}
	// The feed writes over a key that was deleted.
	if err := s.StartFeed(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, DefaultKey("/d", "s"), "", event("put", "/d", "s", nil)); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, DefaultKey("/d", "s")); err != nil {
		t.Fatal(err)
	}
	publish(t, b, "web", event("bus", "/d", "s", nil))
	testkit.Eventually(t, 60*time.Second, func() bool {
		e, err := s.Get(ctx, "/d", "s")
		return err == nil && e.Event.ID() == "bus"
	}, "bus event not kept over a deleted key")
}

func TestBigEventKeptWithoutData(t *testing.T) {
	b := openBus(t)
	s := openStore(t, b, Config{MaxEventSize: 4 << 10})
	ctx := context.Background()
	big := event("big", "/s", "x", map[string]string{"blob": strings.Repeat("a", 8<<10)})
	big.SetExtension("site", "north")
	if err := s.Put(ctx, "k", "", big); err != nil {
		t.Fatal(err)
	}
	e, err := s.GetKey(ctx, "k")
	if err != nil || !e.Truncated || len(e.Event.Data()) != 0 || e.Event.ID() != "big" || e.Event.Extensions()["site"] != "north" {
		t.Fatalf("big event: %+v %v", e, err)
	}
	small := event("small", "/s", "x", map[string]string{"blob": "a"})
	if err := s.Put(ctx, "k", "", small); err != nil {
		t.Fatal(err)
	}
	if e, err := s.GetKey(ctx, "k"); err != nil || e.Truncated || len(e.Event.Data()) == 0 {
		t.Fatalf("small event: %+v %v", e, err)
	}
}

// A full bucket discards the entries updated longest ago; writes go on.
func TestFullBucketDiscardsOldest(t *testing.T) {
	b := openBus(t)
	s := openStore(t, b, Config{MaxBytes: 1 << 20, MaxEventSize: 64 << 10})
	ctx := context.Background()
	blob := strings.Repeat("z", 60<<10)
	const n = 40 // about 2.4 MiB in a 1 MiB bucket
	for i := range n {
		if err := s.Put(ctx, fmt.Sprintf("k%02d", i), "", event(fmt.Sprint(i), "/s", fmt.Sprint(i), map[string]string{"b": blob})); err != nil {
			t.Fatalf("put %d into a full bucket: %v", i, err)
		}
	}
	if _, err := s.GetKey(ctx, "k00"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("oldest entry still there: %v", err)
	}
	if e, err := s.GetKey(ctx, fmt.Sprintf("k%02d", n-1)); err != nil || e.Event.ID() != fmt.Sprint(n-1) {
		t.Fatalf("newest entry: %+v %v", e, err)
	}
	l, err := s.List(ctx, Query{})
	if err != nil || len(l) == 0 || len(l) >= n {
		t.Fatalf("list of a full bucket: %d entries, %v", len(l), err)
	}
}

func TestConfigValidate(t *testing.T) {
	c := Config{MaxAge: spec.Duration(time.Millisecond), MaxBytes: 10, MaxEventSize: 1}
	p := spec.NewProblems("state")
	c.Validate(p)
	got := fmt.Sprint(p.List())
	for _, f := range []string{"state.max_age", "state.max_bytes", "state.max_event_size"} {
		if !strings.Contains(got, f) {
			t.Errorf("problems %s do not name %s", got, f)
		}
	}
	d := Config{}
	d.Defaults()
	p = spec.NewProblems("state")
	d.Validate(p)
	if p.Len() != 0 || !d.On() || d.MaxAge.D() != DefaultMaxAge {
		t.Fatalf("defaults: %+v %v", d, p.List())
	}
}

func TestSizeTo(t *testing.T) {
	c := Config{}
	c.Defaults()
	if got := SizeTo(c, 0, nil); got.MaxBytes != DefaultMaxBytes {
		t.Errorf("unknown room: %v", got.MaxBytes)
	}
	if got := SizeTo(c, 10<<30, nil); got.MaxBytes != DefaultMaxBytes {
		t.Errorf("large disk: %v", got.MaxBytes)
	}
	got := SizeTo(c, 8<<20, nil)
	if got.MaxBytes != 2<<20 || got.MaxEventSize != 256<<10 {
		t.Errorf("small disk: %v %v", got.MaxBytes, got.MaxEventSize)
	}
	if got := SizeTo(c, 512<<10, nil); got.MaxBytes != 128<<10 || got.MaxEventSize != 32<<10 {
		t.Errorf("tiny disk: %v %v", got.MaxBytes, got.MaxEventSize)
	}
}
