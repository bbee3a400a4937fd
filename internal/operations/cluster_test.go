package operations_test

// Two replicas (two managers with their own leases) on one bus: an
// operation started on one is read, cancelled and continued from the
// other. A replica is "killed" by cutting it off from the bus: its lease
// renewals and store writes fail, as when its process died.

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
	"github.com/eventbridge-dev/eventbridge/internal/bus/bustest"
	"github.com/eventbridge-dev/eventbridge/internal/operations"
	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

var errCut = errors.New("cut off from the bus")

// cutStore is a Store that fails once cut.
type cutStore struct {
	operations.Store
	off atomic.Bool
}

func (s *cutStore) Create(ctx context.Context, rec *bus.OpRecord) error {
	if s.off.Load() {
		return errCut
	}
	return s.Store.Create(ctx, rec)
}

func (s *cutStore) Get(ctx context.Context, id string) (bus.OpRecord, error) {
	if s.off.Load() {
		return bus.OpRecord{}, errCut
	}
	return s.Store.Get(ctx, id)
}

func (s *cutStore) Update(ctx context.Context, rec *bus.OpRecord) error {
	if s.off.Load() {
		return errCut
	}
	return s.Store.Update(ctx, rec)
}

func (s *cutStore) List(ctx context.Context) ([]bus.OpRecord, error) {
	if s.off.Load() {
		return nil, errCut
	}
	return s.Store.List(ctx)
}

// cutLeaser is a Leaser that fails once cut.
type cutLeaser struct {
	operations.Leaser
	off atomic.Bool
}

func (l *cutLeaser) Acquire(ctx context.Context, key, owner string) (bool, string, error) {
	if l.off.Load() {
		return false, "", errCut
	}
	return l.Leaser.Acquire(ctx, key, owner)
}

func (l *cutLeaser) Holder(ctx context.Context, key string) (string, error) {
	if l.off.Load() {
		return "", errCut
	}
	return l.Leaser.Holder(ctx, key)
}

// ledger records which replica did which item of "count" operations.
type ledger struct {
	mu sync.Mutex
	by map[int][]string
}

func (l *ledger) add(who string, i int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.by[i] = append(l.by[i], who)
}

func (l *ledger) get(i int) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.by[i]...)
}

type countParams struct{ N int }

// replica is one manager; its "count" operations do items from the
// checkpoint to N, and stop (until cancelled) at stopAt when it is set.
type replica struct {
	name   string
	m      *operations.Manager
	store  *cutStore
	leases *cutLeaser
}

func (r *replica) kill() { r.store.off.Store(true); r.leases.off.Store(true) }

const ttl = time.Second

func newReplica(t *testing.T, b *bus.Bus, name string, l *ledger, stopAt int) *replica {
	t.Helper()
	ctx := bustest.Context(t)
	store, err := b.Operations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	leases, err := b.Leases(ctx, ttl)
	if err != nil {
		t.Fatal(err)
	}
	r := &replica{name: name, store: &cutStore{Store: store}, leases: &cutLeaser{Leaser: leases}}
	r.m = operations.New(operations.Config{
		Store: r.store, Leases: r.leases, LeaseTTL: ttl, Instance: name,
		CheckpointEvery: 20 * time.Millisecond, CheckpointEvents: 10, Log: bustest.Logger(t),
	})
	r.m.Register("count", []string{"done"}, func(ctx context.Context, op *operations.Op) error {
		var p countParams
		if err := op.Params(&p); err != nil {
			return err
		}
		for i := int(op.Resume()); i < p.N; i++ {
			if i == stopAt {
				<-ctx.Done()
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			l.add(name, i)
			op.Add("done", 1)
			op.SetCheckpoint(uint64(i + 1))
		}
		return nil
	})
	r.m.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := r.m.Stop(ctx); err != nil {
			t.Errorf("stop %s: %v", name, err)
		}
	})
	return r
}

func get(t *testing.T, r *replica, id string) operations.View {
	t.Helper()
	v, err := r.m.Get(context.Background(), id)
	if err != nil && !errors.Is(err, errCut) {
		t.Fatalf("%s: get %s: %v", r.name, id, err)
	}
	return v
}

// An operation started on a is seen with its progress from b; a dies, and
// b takes it over within the lease TTL and completes it from a's last
// checkpoint: every item done at least once, and what a did before its
// checkpoint not done again.
func TestTakeOverFromADeadReplica(t *testing.T) {
	b := bustest.New(t)
	l := &ledger{by: map[int][]string{}}
	ra := newReplica(t, b, "a", l, 40)
	rb := newReplica(t, b, "b", l, -1)
	ctx := bustest.Context(t)

	v, err := ra.m.Launch(ctx, "count", countParams{N: 100})
	if err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 10*time.Second, func() bool {
		v := get(t, rb, v.ID)
		return v.Owner == "a" && v.State == operations.Running && v.Progress["done"] == 40
	}, "b sees a's operation with its progress")
	if list, err := rb.m.List(ctx, "count"); err != nil || len(list) != 1 || list[0].ID != v.ID {
		t.Errorf("b lists %+v (%v), want %s", list, err, v.ID)
	}

	ra.kill()
	cut := time.Now()
	var took time.Duration
	testkit.Eventually(t, 10*time.Second, func() bool {
		v := get(t, rb, v.ID)
		if v.Owner == "b" && took == 0 {
			took = time.Since(cut)
		}
		return v.State == operations.Succeeded
	}, "b takes the operation over and completes it")
	t.Logf("taken over %s after a died (lease TTL %s)", took, ttl)
	if took == 0 || took > ttl+ttl/3+time.Second {
		t.Errorf("taken over after %s, want within the lease TTL %s (+ a renewal period)", took, ttl)
	}
	fin := get(t, rb, v.ID)
	if fin.Owner != "b" || fin.Progress["done"] < 100 || fin.Finished == nil {
		t.Errorf("finished operation %+v, want owned by b with done >= 100", fin)
	}
	for i := range 100 {
		who := l.get(i)
		switch {
		case len(who) == 0:
			t.Errorf("item %d was never done", i)
		case i < 39 && (len(who) != 1 || who[0] != "a"):
			t.Errorf("item %d, before a's checkpoint, was done by %v", i, who)
		case i >= 40 && !contains(who, "b"):
			t.Errorf("item %d, after a died, was done by %v", i, who)
		}
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// A cancel asked on b stops the operation a runs.
func TestCancelFromAnotherReplica(t *testing.T) {
	b := bustest.New(t)
	l := &ledger{by: map[int][]string{}}
	ra := newReplica(t, b, "a", l, 5)
	rb := newReplica(t, b, "b", l, 5)
	ctx := bustest.Context(t)
	v, err := ra.m.Launch(ctx, "count", countParams{N: 10})
	if err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 10*time.Second, func() bool { return get(t, rb, v.ID).Progress["done"] == 5 }, "b sees the progress")
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	got, err := rb.m.Cancel(cctx, v.ID)
	if err != nil || got.State != operations.Cancelled || got.Owner != "a" {
		t.Fatalf("cancel on b: %+v, %v; want cancelled, owned by a", got, err)
	}
	if av := get(t, ra, v.ID); av.State != operations.Cancelled {
		t.Errorf("a sees %+v", av)
	}
	if _, err := rb.m.Cancel(cctx, "count-nope"); !errors.Is(err, operations.ErrNotFound) {
		t.Errorf("cancel of an unknown id: %v, want ErrNotFound", err)
	}
}

// An operation whose owner is dead, cancelled before anyone took it over,
// ends cancelled at once.
func TestCancelAnOperationWithoutAnOwner(t *testing.T) {
	b := bustest.New(t)
	l := &ledger{by: map[int][]string{}}
	ra := newReplica(t, b, "a", l, 3)
	ctx := bustest.Context(t)
	v, err := ra.m.Launch(ctx, "count", countParams{N: 10})
	if err != nil {
		t.Fatal(err)
	}
	store, _ := b.Operations(ctx)
	leases, _ := b.Leases(ctx, ttl)
	// c cannot run "count": it never takes the operation over.
	c := operations.New(operations.Config{Store: store, Leases: leases, LeaseTTL: ttl, Instance: "c"})
	testkit.Eventually(t, 10*time.Second, func() bool {
		v, _ := c.Get(ctx, v.ID)
		return v.Progress["done"] == 3
	}, "c sees the progress")
	ra.kill()
	testkit.Eventually(t, 10*time.Second, func() bool {
		h, _ := leases.Holder(ctx, "op."+v.ID)
		return h == ""
	}, "a's lease expires")
	got, err := c.Cancel(ctx, v.ID)
	if err != nil || got.State != operations.Cancelled || got.Finished == nil {
		t.Fatalf("cancel: %+v, %v; want cancelled", got, err)
	}
}

// A replica that stops hands its operations over: another continues them
// without waiting for the lease to expire.
func TestStopHandsOver(t *testing.T) {
	b := bustest.New(t)
	l := &ledger{by: map[int][]string{}}
	ra := newReplica(t, b, "a", l, 10)
	rb := newReplica(t, b, "b", l, -1)
	ctx := bustest.Context(t)
	v, err := ra.m.Launch(ctx, "count", countParams{N: 20})
	if err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 10*time.Second, func() bool { return get(t, rb, v.ID).Progress["done"] == 10 }, "b sees the progress")
	start := time.Now()
	if err := ra.m.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 10*time.Second, func() bool { return get(t, rb, v.ID).State == operations.Succeeded }, "b completes it")
	if took := time.Since(start); took > ttl {
		t.Errorf("b completed it %s after a stopped: it waited for the lease to expire", took)
	}
	for i := range 20 {
		if who := l.get(i); len(who) != 1 {
			t.Errorf("item %d done by %v, want once", i, who)
		}
	}
	if _, err := ra.m.Launch(ctx, "count", countParams{N: 1}); !errors.Is(err, operations.ErrStopped) {
		t.Errorf("launch on a stopped manager: %v, want ErrStopped", err)
	}
}

// Finished operations are forgotten after Keep.
func TestFinishedOperationsAreForgotten(t *testing.T) {
	m := operations.New(operations.Config{Keep: 50 * time.Millisecond, LeaseTTL: 30 * time.Millisecond})
	m.Register("noop", nil, func(context.Context, *operations.Op) error { return nil })
	m.Start()
	t.Cleanup(func() { _ = m.Stop(context.Background()) })
	ctx := context.Background()
	v, err := m.Launch(ctx, "noop", nil)
	if err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 10*time.Second, func() bool {
		got, err := m.Get(ctx, v.ID)
		return err == nil && got.State == operations.Succeeded
	}, "the operation succeeds")
	testkit.Eventually(t, 10*time.Second, func() bool {
		_, err := m.Get(ctx, v.ID)
		return errors.Is(err, operations.ErrNotFound)
	}, "the operation is forgotten")
}
