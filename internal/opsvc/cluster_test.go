package opsvc

// Replays and redrives across two replicas on one bus: started on a, read
// from b, and continued by b when a dies (cut off from the bus: its lease
// renewals and store writes fail).

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
	"github.com/eventbridge-dev/eventbridge/internal/bus/bustest"
	"github.com/eventbridge-dev/eventbridge/internal/deadletter"
	"github.com/eventbridge-dev/eventbridge/internal/delivery"
	"github.com/eventbridge-dev/eventbridge/internal/operations"
	"github.com/eventbridge-dev/eventbridge/internal/resource"
	"github.com/eventbridge-dev/eventbridge/internal/telemetry"
	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

const clusterTTL = time.Second

var errCut = errors.New("cut off from the bus")

// cut is a replica's way to the bus: the operations store and the leases,
// both failing once off.
type cut struct {
	off    atomic.Bool
	store  operations.Store
	leases operations.Leaser
}

func (c *cut) err() error {
	if c.off.Load() {
		return errCut
	}
	return nil
}

type cutStore struct{ *cut }

func (s cutStore) Create(ctx context.Context, rec *bus.OpRecord) error {
	if err := s.err(); err != nil {
		return err
	}
	return s.store.Create(ctx, rec)
}

func (s cutStore) Get(ctx context.Context, id string) (bus.OpRecord, error) {
	if err := s.err(); err != nil {
		return bus.OpRecord{}, err
	}
	return s.store.Get(ctx, id)
}

func (s cutStore) Update(ctx context.Context, rec *bus.OpRecord) error {
	if err := s.err(); err != nil {
		return err
	}
	return s.store.Update(ctx, rec)
}

func (s cutStore) Delete(ctx context.Context, rec bus.OpRecord) error {
	if err := s.err(); err != nil {
		return err
	}
	return s.store.Delete(ctx, rec)
}

func (s cutStore) List(ctx context.Context) ([]bus.OpRecord, error) {
	if err := s.err(); err != nil {
		return nil, err
	}
	return s.store.List(ctx)
}

type cutLeases struct{ *cut }

func (l cutLeases) Acquire(ctx context.Context, key, owner string) (bool, string, error) {
	if err := l.err(); err != nil {
		return false, "", err
	}
	return l.leases.Acquire(ctx, key, owner)
}

func (l cutLeases) Release(ctx context.Context, key, owner string) error {
	if err := l.err(); err != nil {
		return err
	}
	return l.leases.Release(ctx, key, owner)
}

func (l cutLeases) Holder(ctx context.Context, key string) (string, error) {
	if err := l.err(); err != nil {
		return "", err
	}
	return l.leases.Holder(ctx, key)
}

// oneRule runs rule "r" through one route.
type oneRule struct{ rt *delivery.Route }

func (o oneRule) Rule(name string) (*resource.Rule, []*delivery.Route, bool) {
	if name != "r" {
		return nil, nil, false
	}
	return &resource.Rule{}, []*delivery.Route{o.rt}, true
}

type clusterReplica struct {
	name   string
	svc    *Service
	cut    *cut
	target *bustest.Target
}

// newClusterReplica starts a replica: its operations service with its own
// route r → t delivering to its own target, one delivery at a time.
func newClusterReplica(t *testing.T, b *bus.Bus, name string, dlq *deadletter.DLQ) *clusterReplica {
	t.Helper()
	ctx := bustest.Context(t)
	store, err := b.Operations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	leases, err := b.Leases(ctx, clusterTTL)
	if err != nil {
		t.Fatal(err)
	}
	c := &cut{store: store, leases: leases}
	target := bustest.NewTarget()
	var p delivery.Policy
	p.Defaults()
	p.Concurrency, p.QueueSize = 1, 1000
	keeper := delivery.NewKeeper(b.Config().AckWait.D())
	rt := delivery.NewRoute(delivery.RouteConfig{
		Rule: "r", Target: "t", Policy: p, Sender: target, Bus: b, Keeper: keeper,
		Metrics: telemetry.NewMetrics(), Log: bustest.Logger(t), AckWait: b.Config().AckWait.D(),
	})
	if err := rt.Start(ctx); err != nil {
		t.Fatal(err)
	}
	m := operations.New(operations.Config{
		Store: cutStore{c}, Leases: cutLeases{c}, LeaseTTL: clusterTTL, Instance: name,
		CheckpointEvery: 20 * time.Millisecond, CheckpointEvents: 10, Log: bustest.Logger(t),
	})
	svc := New(Config{Manager: m, Archive: b.Archive(), Rules: oneRule{rt}, DLQ: dlq})
	m.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := m.Stop(ctx); err != nil {
			t.Errorf("stop %s: %v", name, err)
		}
		_ = rt.Stop(ctx)
		keeper.Close()
	})
	return &clusterReplica{name: name, svc: svc, cut: c, target: target}
}

// holdAt makes the replica's target stop at its n-th send until the test
// ends (as a replica that hangs, then dies), and returns a channel closed
// when it got there.
func holdAt(t *testing.T, target *bustest.Target, n int) <-chan struct{} {
	reached, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	target.Script(func(i int, _ *ce.Event) error {
		if i >= n {
			once.Do(func() { close(reached) })
			<-release
		}
		return nil
	})
	t.Cleanup(func() { close(release) }) // runs before the replica's cleanup
	return reached
}

func viewOn(t *testing.T, r *clusterReplica, id string) operations.View {
	t.Helper()
	v, err := r.svc.Get(context.Background(), id)
	if err != nil && !errors.Is(err, errCut) {
		t.Fatalf("%s: get %s: %v", r.name, id, err)
	}
	return v
}

// A replay started on a shows its progress on b; a dies with deliveries
// in flight, and b takes the replay over within the lease TTL and
// completes it: every archived event is delivered at least once.
func TestReplayTakenOverWhenItsReplicaDies(t *testing.T) {
	b := bustest.New(t)
	ra := newClusterReplica(t, b, "a", nil)
	rb := newClusterReplica(t, b, "b", nil)
	const n = 100
	from := time.Now().Add(-time.Minute)
	var want []string
	for i := range n {
		id := fmt.Sprintf("e%03d", i)
		want = append(want, id)
		bustest.Publish(t, b, "src", bustest.Event(id, "t"))
	}
	reached := holdAt(t, ra.target, 41) // a delivers 40, then hangs
	ctx := bustest.Context(t)
	v, err := ra.svc.StartReplay(ctx, "r", "", from, time.Now().Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	<-reached
	testkit.Eventually(t, 10*time.Second, func() bool {
		v := viewOn(t, rb, v.ID)
		return v.Owner == "a" && v.State == operations.Running && v.Progress["delivered"] == 40 && v.Progress["scanned"] == n
	}, "b sees a's replay with its progress")

	ra.cut.off.Store(true) // a dies
	dead := time.Now()
	var took time.Duration
	testkit.Eventually(t, 20*time.Second, func() bool {
		v := viewOn(t, rb, v.ID)
		if v.Owner == "b" && took == 0 {
			took = time.Since(dead)
		}
		return v.State != operations.Running
	}, "b takes the replay over and completes it")
	t.Logf("replay taken over %s after its replica died (lease TTL %s)", took, clusterTTL)
	fin := viewOn(t, rb, v.ID)
	if fin.State != operations.Succeeded || fin.Owner != "b" {
		t.Fatalf("replay ended %+v, want succeeded on b", fin)
	}
	if took > clusterTTL+clusterTTL/3+time.Second {
		t.Errorf("taken over after %s, want within the lease TTL %s (+ a renewal period)", took, clusterTTL)
	}
	got := map[string]int{}
	for _, id := range append(ra.target.Delivered(), rb.target.Delivered()...) {
		got[id]++
	}
	for _, id := range want {
		if got[id] == 0 {
			t.Errorf("event %s was never replayed", id)
		}
	}
	if nb := len(rb.target.Delivered()); nb < n-40 || nb > n-40+1 {
		t.Errorf("b replayed %d events, want the %d a had not delivered (and perhaps the one in flight)", nb, n-40)
	}
}

// A redrive started on a, which dies after ten letters, is completed by b
// from a's checkpoint: every letter leaves the DLQ for RETRY once.
func TestRedriveTakenOverWhenItsReplicaDies(t *testing.T) {
	b := bustest.New(t)
	ctx := bustest.Context(t)
	const n = 30
	for i := range n {
		key := fmt.Sprintf("src\x00e%03d", i)
		d := &bus.DeadLetter{Reason: "exhausted", Delivery: bus.Delivery{
			Rule: "dl", Target: "t", Key: key, Attempts: 3, MsgID: fmt.Sprintf("dl%03d", i),
			Event: fmt.Appendf(nil, `{"specversion":"1.0","id":"e%03d","source":"src","type":"t"}`, i),
		}}
		if err := b.PutDeadLetter(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	dla := deadletter.New(b.DeadLetters())
	reached, release := make(chan struct{}), make(chan struct{})
	var redriven atomic.Int32
	dla.OnRedrive = func(string, string) {
		if redriven.Add(1) == 11 { // a hangs after its 11th letter, then dies
			close(reached)
			<-release
		}
	}
	ra := newClusterReplica(t, b, "a", dla)
	rb := newClusterReplica(t, b, "b", deadletter.New(b.DeadLetters()))
	t.Cleanup(func() { close(release) })

	v, err := ra.svc.StartRedrive(ctx, "dl", deadletter.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	<-reached
	testkit.Eventually(t, 10*time.Second, func() bool {
		v := viewOn(t, rb, v.ID)
		return v.Owner == "a" && v.Progress["done"] == 10
	}, "b sees a's redrive with its progress")
	ra.cut.off.Store(true)
	testkit.Eventually(t, 20*time.Second, func() bool { return viewOn(t, rb, v.ID).State != operations.Running }, "b completes the redrive")
	fin := viewOn(t, rb, v.ID)
	if fin.State != operations.Succeeded || fin.Owner != "b" || fin.Progress["failed"] != 0 {
		t.Fatalf("redrive ended %+v, want succeeded on b without failures", fin)
	}
	// The 11th letter left the DLQ on a but was not counted before a died.
	if d := fin.Progress["done"]; d < n-1 || d > n {
		t.Errorf("done %d, want %d or %d", d, n-1, n)
	}
	counts, err := b.DeadLetters().Counts(ctx, "dl")
	if err != nil {
		t.Fatal(err)
	}
	for subj, c := range counts {
		if c > 0 {
			t.Errorf("%d letters left on %s", c, subj)
		}
	}
	bustest.WaitSubject(t, b, bus.StreamRetry, bus.RetrySubject("dl", "t"), n)
}
