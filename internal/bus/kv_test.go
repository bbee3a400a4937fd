package bus

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

func kvContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func openTestKV(t *testing.T, b *Bus) *KV {
	t.Helper()
	kv, err := b.KV(kvContext(t), Bucket{Name: "test", Description: "kv contract", History: 5})
	if err != nil {
		t.Fatal(err)
	}
	return kv
}

// next waits for the watcher's next entry (nil marks the end of the
// initial values).
func next(t *testing.T, w *Watcher) *Entry {
	t.Helper()
	select {
	case e, ok := <-w.Updates():
		if !ok {
			t.Fatal("watch ended")
		}
		return e
	case <-time.After(30 * time.Second):
		t.Fatal("no entry from the watch within 30s")
	}
	return nil
}

func TestKVCreateGetUpdateDelete(t *testing.T) {
	b := openTestBus(t)
	kv := openTestKV(t, b)
	ctx := kvContext(t)
	if kv.Name() != "test" {
		t.Fatalf("name %q", kv.Name())
	}

	if _, err := kv.Get(ctx, "a.one"); !errors.Is(err, ErrKeyNotFound) {
		t.Fatalf("get of a missing key: %v, want ErrKeyNotFound", err)
	}
	rev1, err := kv.Create(ctx, "a.one", []byte("v1"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Create(ctx, "a.one", []byte("again")); !errors.Is(err, ErrKeyExists) {
		t.Fatalf("second create: %v, want ErrKeyExists", err)
	}
	e, err := kv.Get(ctx, "a.one")
	if err != nil {
		t.Fatal(err)
	}
	if e.Key != "a.one" || string(e.Value) != "v1" || e.Revision != rev1 || e.Op != OpPut || e.Created.IsZero() {
		t.Fatalf("get: %+v", e)
	}

	rev2, err := kv.Update(ctx, "a.one", []byte("v2"), rev1)
	if err != nil {
		t.Fatal(err)
	}
	if rev2 <= rev1 {
		t.Fatalf("revision %d after %d", rev2, rev1)
	}
	if _, err := kv.Update(ctx, "a.one", []byte("stale"), rev1); !errors.Is(err, ErrRevisionMismatch) {
		t.Fatalf("update with a stale revision: %v, want ErrRevisionMismatch", err)
	}
	if _, err := kv.Update(ctx, "a.missing", []byte("x"), 1); !errors.Is(err, ErrRevisionMismatch) {
		t.Fatalf("update of a missing key: %v, want ErrRevisionMismatch", err)
	}
	if e, _ := kv.Get(ctx, "a.one"); string(e.Value) != "v2" {
		t.Fatalf("value %q after a refused update", e.Value)
	}

	if err := kv.Delete(ctx, "a.one", rev1); !errors.Is(err, ErrRevisionMismatch) {
		t.Fatalf("delete with a stale revision: %v, want ErrRevisionMismatch", err)
	}
	if err := kv.Delete(ctx, "a.one", rev2); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Get(ctx, "a.one"); !errors.Is(err, ErrKeyNotFound) {
		t.Fatalf("get after delete: %v, want ErrKeyNotFound", err)
	}
	if err := kv.Delete(ctx, "a.never", 0); err != nil {
		t.Fatalf("delete of a key without a value: %v", err)
	}
	// A deleted key can be created again.
	if _, err := kv.Create(ctx, "a.one", []byte("v3")); err != nil {
		t.Fatalf("create after delete: %v", err)
	}
	if _, err := kv.Put(ctx, "a.one", []byte("v4")); err != nil {
		t.Fatal(err)
	}
	if e, _ := kv.Get(ctx, "a.one"); string(e.Value) != "v4" {
		t.Fatalf("value %q after put", e.Value)
	}
}

func TestKVKeysAndList(t *testing.T) {
	b := openTestBus(t)
	kv := openTestKV(t, b)
	ctx := kvContext(t)

	if keys, err := kv.Keys(ctx); err != nil || len(keys) != 0 {
		t.Fatalf("keys of an empty bucket: %v, %v", keys, err)
	}
	if l, err := kv.List(ctx, ">"); err != nil || len(l) != 0 {
		t.Fatalf("list of an empty bucket: %v, %v", l, err)
	}
	for _, k := range []string{"b.two", "a.one", "b.one", "c.gone"} {
		if _, err := kv.Put(ctx, k, []byte(k)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := kv.Put(ctx, "a.one", []byte("newer")); err != nil {
		t.Fatal(err)
	}
	if err := kv.Delete(ctx, "c.gone", 0); err != nil {
		t.Fatal(err)
	}
	keys, err := kv.Keys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"a.one", "b.one", "b.two"}; !slices.Equal(keys, want) {
		t.Fatalf("keys %v, want %v", keys, want)
	}
	all, err := kv.List(ctx, ">")
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 || all[0].Key != "a.one" || string(all[0].Value) != "newer" || all[2].Key != "b.two" {
		t.Fatalf("list: %+v", all)
	}
	bs, err := kv.List(ctx, "b.>")
	if err != nil {
		t.Fatal(err)
	}
	if len(bs) != 2 || bs[0].Key != "b.one" || bs[1].Key != "b.two" {
		t.Fatalf("list b.>: %+v", bs)
	}
}

func TestKVWatch(t *testing.T) {
	b := openTestBus(t)
	kv := openTestKV(t, b)
	ctx := kvContext(t)
	if _, err := kv.Put(ctx, "old", []byte("1")); err != nil {
		t.Fatal(err)
	}

	// A full watch: the current value, the end marker, then changes
	// (deletes included).
	all, err := kv.Watch(ctx, ">", WatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = all.Stop() }()
	if e := next(t, all); e == nil || e.Key != "old" || string(e.Value) != "1" {
		t.Fatalf("first entry %+v, want old=1", e)
	}
	if e := next(t, all); e != nil {
		t.Fatalf("entry %+v, want the end of the initial values", e)
	}

	// Updates only, without values, without deletes.
	upd, err := kv.Watch(ctx, ">", WatchOptions{UpdatesOnly: true, MetaOnly: true, IgnoreDeletes: true})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = upd.Stop() }()

	rev, err := kv.Put(ctx, "new", []byte("2"))
	if err != nil {
		t.Fatal(err)
	}
	if err := kv.Delete(ctx, "old", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, "last", []byte("3")); err != nil {
		t.Fatal(err)
	}

	if e := next(t, all); e == nil || e.Key != "new" || string(e.Value) != "2" || e.Revision != rev || e.Op != OpPut {
		t.Fatalf("watch saw %+v, want new=2 at %d", e, rev)
	}
	if e := next(t, all); e == nil || e.Key != "old" || e.Op != OpDelete {
		t.Fatalf("watch saw %+v, want the delete of old", e)
	}
	if e := next(t, all); e == nil || e.Key != "last" {
		t.Fatalf("watch saw %+v, want last", e)
	}

	if e := next(t, upd); e == nil || e.Key != "new" || e.Revision != rev || len(e.Value) != 0 {
		t.Fatalf("updates-only meta-only watch saw %+v, want new at %d without a value", e, rev)
	}
	if e := next(t, upd); e == nil || e.Key != "last" {
		t.Fatalf("watch ignoring deletes saw %+v, want last", e)
	}
}

func TestKVWatchEnds(t *testing.T) {
	b := openTestBus(t)
	kv := openTestKV(t, b)

	// Stop closes Updates, even with entries nobody read.
	w, err := kv.Watch(kvContext(t), ">", WatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		if _, err := kv.Put(kvContext(t), "k", []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Stop(); err != nil {
		t.Fatal(err)
	}
	_ = w.Stop()
	waitClosed(t, w)

	// So does the end of its context.
	ctx, cancel := context.WithCancel(kvContext(t))
	w, err = kv.Watch(ctx, ">", WatchOptions{UpdatesOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	waitClosed(t, w)
}

func waitClosed(t *testing.T, w *Watcher) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case _, ok := <-w.Updates():
			if !ok {
				return
			}
		case <-deadline:
			t.Fatal("the watch did not end within 30s")
		}
	}
}

func TestKVBucketSettings(t *testing.T) {
	b := openTestBus(t)
	ctx := kvContext(t)
	for _, bkt := range []Bucket{DesiredStateBucket, JobsBucket, EventTypesBucket, LeasesBucket(time.Minute)} {
		kv, err := b.KV(ctx, bkt)
		if err != nil {
			t.Fatalf("%s: %v", bkt.Name, err)
		}
		st, err := b.js.KeyValue(ctx, bkt.Name)
		if err != nil {
			t.Fatal(err)
		}
		s, err := st.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if kv.Name() != bkt.Name || s.History() != int64(max(bkt.History, 1)) || s.TTL() != bkt.TTL {
			t.Errorf("%s: history %d ttl %s, want %d %s", bkt.Name, s.History(), s.TTL(), bkt.History, bkt.TTL)
		}
	}
	// Opening again with the same settings is fine (every start does).
	if _, err := b.KV(ctx, DesiredStateBucket); err != nil {
		t.Fatal(err)
	}
}

func TestLeases(t *testing.T) {
	b := openTestBus(t)
	ctx := kvContext(t)
	ttl := 2 * time.Second
	one, err := b.Leases(ctx, ttl)
	if err != nil {
		t.Fatal(err)
	}
	two, err := b.Leases(ctx, ttl)
	if err != nil {
		t.Fatal(err)
	}

	if held, holder, err := one.Acquire(ctx, "job", "one"); err != nil || !held || holder != "one" {
		t.Fatalf("one: %v %q %v", held, holder, err)
	}
	if held, holder, err := two.Acquire(ctx, "job", "two"); err != nil || held || holder != "one" {
		t.Fatalf("two while one holds: %v %q %v", held, holder, err)
	}
	if held, _, err := one.Acquire(ctx, "job", "one"); err != nil || !held {
		t.Fatalf("renewal: %v %v", held, err)
	}
	if h, err := two.Holder(ctx, "job"); err != nil || h != "one" {
		t.Fatalf("holder %q %v", h, err)
	}
	// Release by someone else does nothing.
	if err := two.Release(ctx, "job", "two"); err != nil {
		t.Fatal(err)
	}
	if h, _ := two.Holder(ctx, "job"); h != "one" {
		t.Fatalf("holder %q after a stranger's release", h)
	}
	if err := one.Release(ctx, "job", "one"); err != nil {
		t.Fatal(err)
	}
	if h, err := two.Holder(ctx, "job"); err != nil || h != "" {
		t.Fatalf("holder %q %v after release", h, err)
	}
	if held, _, err := two.Acquire(ctx, "job", "two"); err != nil || !held {
		t.Fatalf("two after release: %v %v", held, err)
	}

	// A lease not renewed vanishes after the TTL, and another takes it;
	// the old holder's renewal then fails.
	deadline := time.Now().Add(30 * time.Second)
	for {
		held, _, err := one.Acquire(ctx, "job", "one")
		if err != nil {
			t.Fatal(err)
		}
		if held {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the lease did not expire within 30s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if held, holder, err := two.Acquire(ctx, "job", "two"); err != nil || held || holder != "one" {
		t.Fatalf("two's renewal after expiry: %v %q %v", held, holder, err)
	}
}

func TestJobRunRequests(t *testing.T) {
	b := openTestBus(t)
	ctx := kvContext(t)
	var mu sync.Mutex
	var asked []string
	stop, err := b.ServeJobRuns(func(job string) bool {
		mu.Lock()
		defer mu.Unlock()
		asked = append(asked, job)
		return job == "mine"
	})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if ok, err := b.RequestJobRun(ctx, "mine"); err != nil || !ok {
		t.Fatalf("run of a held job: %v %v", ok, err)
	}
	short, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	if ok, err := b.RequestJobRun(short, "other"); err == nil || ok {
		t.Fatalf("run of a job nobody holds: %v %v, want an error", ok, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(asked, []string{"mine", "other"}) {
		t.Fatalf("asked %v", asked)
	}
}
