package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/testkit"
	"github.com/eventbridge-dev/eventbridge/pkg/cloudsync"
	csgrpc "github.com/eventbridge-dev/eventbridge/pkg/cloudsync/grpc"
)

var syncDT = cloudsync.MustParseDataType("io.example.e2e.v1.widgets")

// connLog records a client's connection events.
type connLog struct {
	mu  sync.Mutex
	evs []cloudsync.ConnectionState
}

func (l *connLog) add(e cloudsync.ConnectionEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.evs = append(l.evs, e.State)
}

func (l *connLog) count(s cloudsync.ConnectionState) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, e := range l.evs {
		if e == s {
			n++
		}
	}
	return n
}

// syncAgent is an agent program: it applies specs to its store and
// reports a status per object.
type syncAgent struct {
	cluster string
	store   *cloudsync.ResourceStore
	log     *connLog
	client  *cloudsync.AgentClient[*cloudsync.Resource]
	cancel  context.CancelFunc
}

func startAgent(t *testing.T, url, cluster string, store *cloudsync.ResourceStore) *syncAgent {
	t.Helper()
	opts, err := (&csgrpc.Config{URL: url}).Options()
	if err != nil {
		t.Fatal(err)
	}
	a := &syncAgent{cluster: cluster, store: store, log: &connLog{}}
	ctx, cancel := context.WithCancel(context.Background())
	a.cancel = cancel
	a.client, err = cloudsync.NewAgentClient[*cloudsync.Resource](ctx,
		cloudsync.AgentOptions{AgentID: "agent-" + cluster, ClusterName: cluster, Transport: csgrpc.NewAgentTransport(opts, cluster, syncDT)},
		store, nil, cloudsync.ResourceCodec{Type: syncDT},
		cloudsync.WithConnectionHandler(a.log.add), cloudsync.WithBackoff(100*time.Millisecond, time.Second))
	if err != nil {
		t.Fatal(err)
	}
	statusType := cloudsync.EventType{DataType: syncDT, SubResource: cloudsync.SubResourceStatus, Action: cloudsync.UpdateRequest}
	err = a.client.Subscribe(ctx, func(ctx context.Context, act cloudsync.ResourceAction, r *cloudsync.Resource) error {
		switch act {
		case cloudsync.Deleted:
			store.Delete(r.ID)
			return nil
		case cloudsync.Added, cloudsync.Modified:
			r.Status, _ = json.Marshal(map[string]any{"observedVersion": r.Version, "cluster": cluster})
			store.Put(r)
			// A status that cannot be sent now is sent by the status
			// resync the source asks for after it reconnects.
			return a.client.Publish(ctx, statusType, r)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.stop)
	return a
}

func (a *syncAgent) stop() {
	_ = a.client.Close(context.Background())
	a.cancel()
}

// syncSource is a source program: it owns the objects, publishes their
// specs and keeps the statuses agents report. Specs it could not publish
// (the broker was down) are published again once it is resubscribed.
type syncSource struct {
	store  *cloudsync.ResourceStore
	log    *connLog
	client *cloudsync.SourceClient[*cloudsync.Resource]

	mu    sync.Mutex
	dirty map[string]bool
}

func startSource(t *testing.T, url string) *syncSource {
	t.Helper()
	opts, err := (&csgrpc.Config{URL: url}).Options()
	if err != nil {
		t.Fatal(err)
	}
	s := &syncSource{store: cloudsync.NewResourceStore(), log: &connLog{}, dirty: map[string]bool{}}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	s.client, err = cloudsync.NewSourceClient[*cloudsync.Resource](ctx,
		cloudsync.SourceOptions{SourceID: "src", Transport: csgrpc.NewSourceTransport(opts, "src", syncDT)},
		s.store, nil, cloudsync.ResourceCodec{Type: syncDT},
		cloudsync.WithBackoff(100*time.Millisecond, time.Second),
		cloudsync.WithConnectionHandler(func(e cloudsync.ConnectionEvent) {
			s.log.add(e)
			if e.State == cloudsync.Resubscribed {
				go s.republish(ctx)
			}
		}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.client.Close(context.Background()) })
	err = s.client.Subscribe(ctx, func(_ context.Context, act cloudsync.ResourceAction, r *cloudsync.Resource) error {
		if act == cloudsync.StatusModified {
			s.store.Update(r.ID, func(have *cloudsync.Resource) { have.Status = r.Status })
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// put stores and publishes r; a failed publish is remembered.
func (s *syncSource) put(ctx context.Context, r *cloudsync.Resource) {
	r.Source = "src"
	s.store.Put(r)
	s.publish(ctx, r.ID)
}

func (s *syncSource) publish(ctx context.Context, id string) {
	r, ok := s.store.Get(id)
	if !ok {
		return
	}
	act := cloudsync.UpdateRequest
	if r.Deleting != nil {
		act = cloudsync.DeleteRequest
	}
	err := s.client.Publish(ctx, cloudsync.EventType{DataType: syncDT, SubResource: cloudsync.SubResourceSpec, Action: act}, r)
	s.mu.Lock()
	s.dirty[id] = err != nil
	s.mu.Unlock()
	if err == nil && r.Deleting != nil {
		s.store.Delete(id) // the broker answers resyncs with the deletion from now on
	}
}

func (s *syncSource) republish(ctx context.Context) {
	s.mu.Lock()
	var ids []string
	for id, d := range s.dirty {
		if d {
			ids = append(ids, id)
		}
	}
	s.mu.Unlock()
	for _, id := range ids {
		s.publish(ctx, id)
	}
}

func (s *syncSource) pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, d := range s.dirty {
		if d {
			n++
		}
	}
	return n
}

// diff says how the source's objects of a cluster and an agent's differ
// ("" when they agree on ids, versions and status hashes).
func diff(src, agent *cloudsync.ResourceStore, cluster string) string {
	want, _ := src.List(cloudsync.ListOptions{ClusterName: cluster})
	got, _ := agent.List(cloudsync.ListOptions{})
	describe := func(rs []*cloudsync.Resource) string {
		var out []string
		for _, r := range rs {
			h, _ := cloudsync.HashResourceStatus(r)
			out = append(out, fmt.Sprintf("%s@%d#%.8s", r.ID, r.Version, h))
		}
		sort.Strings(out)
		return strings.Join(out, " ")
	}
	w, g := describe(want), describe(got)
	if w == g {
		for _, r := range want {
			if len(r.Status) == 0 {
				return "source has no status for " + r.ID
			}
		}
		return ""
	}
	return fmt.Sprintf("source: [%s]\nagent:  [%s]", w, g)
}

// A cloudsync source and two agents keep objects in sync through
// eventbridge's gRPC broker while it is killed with SIGKILL and restarted
// on the same data: the clients see the connection lost and come back,
// resync automatically, and the broker answers the spec resync of an
// agent that was away from the specs it kept durably.
func TestCloudsyncGRPCKill(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	addr := freeAddr(t)
	grpcAddr := freeAddr(t)
	cfg := writeConfig(t, addr, fmt.Sprintf(`
sources: {ocm: {type: grpc, listen: %q, broker: {enabled: true}}}
`, grpcAddr))
	p := start(t, cfg, addr)
	ctx := context.Background()

	src := startSource(t, grpcAddr)
	stores := map[string]*cloudsync.ResourceStore{"c1": cloudsync.NewResourceStore(), "c2": cloudsync.NewResourceStore()}
	a1 := startAgent(t, grpcAddr, "c1", stores["c1"])
	a2 := startAgent(t, grpcAddr, "c2", stores["c2"])
	spec := func(id string, v int64) json.RawMessage {
		return json.RawMessage(fmt.Sprintf(`{"image":"%s:%d"}`, id, v))
	}
	for _, c := range []string{"c1", "c2"} {
		for i := range 5 {
			id := fmt.Sprintf("%s-%d", c, i)
			src.put(ctx, &cloudsync.Resource{ID: id, Version: 1, ClusterName: c, Spec: spec(id, 1)})
		}
	}
	agree := func(phase string) {
		t.Helper()
		for c, st := range stores {
			testkit.Eventually(t, 90*time.Second, func() bool { return src.pending() == 0 && diff(src.store, st, c) == "" },
				"%s: cluster %s not in sync (%d specs unsent):\n%s", phase, c, src.pending(), diff(src.store, st, c))
		}
	}
	agree("start")

	// Agent c2 goes away; what the source publishes meanwhile reaches
	// only the broker.
	a2.stop()
	src.put(ctx, &cloudsync.Resource{ID: "c2-0", Version: 2, ClusterName: "c2", Spec: spec("c2-0", 2)})
	now := time.Now()
	src.put(ctx, &cloudsync.Resource{ID: "c2-1", Version: 1, ClusterName: "c2", Deleting: &now})
	src.put(ctx, &cloudsync.Resource{ID: "c2-5", Version: 1, ClusterName: "c2", Spec: spec("c2-5", 1)})
	if n := src.pending(); n != 0 {
		t.Fatalf("%d specs not published while the broker was up", n)
	}

	// SIGKILL. While the bridge is down the source changes c1-0: the
	// publish fails and is repeated after the reconnect.
	p.kill()
	testkit.Eventually(t, 60*time.Second, func() bool { return src.log.count(cloudsync.Lost) >= 1 && a1.log.count(cloudsync.Lost) >= 1 },
		"the clients did not notice the broker was gone")
	src.put(ctx, &cloudsync.Resource{ID: "c1-0", Version: 2, ClusterName: "c1", Spec: spec("c1-0", 2)})
	if src.pending() == 0 {
		t.Fatal("a publish succeeded while the bridge was down")
	}
	p.run()
	testkit.Eventually(t, 90*time.Second, func() bool {
		return src.log.count(cloudsync.Resubscribed) >= 1 && a1.log.count(cloudsync.Resubscribed) >= 1
	}, "the clients did not resubscribe after the restart")

	// Agent c2 comes back with what it had: its spec resync is answered
	// by the restarted broker from the specs it kept.
	startAgent(t, grpcAddr, "c2", stores["c2"])
	agree("after the restart")
	if _, ok := stores["c2"].Get("c2-1"); ok {
		t.Error("c2-1 was deleted but the agent still has it")
	}
	if r, _ := stores["c2"].Get("c2-0"); r == nil || r.Version != 2 {
		t.Errorf("c2-0 on the agent: %+v", r)
	}
	if r, _ := stores["c1"].Get("c1-0"); r == nil || r.Version != 2 {
		t.Errorf("c1-0 on the agent: %+v", r)
	}
	if err := p.stop(); err != nil {
		t.Errorf("graceful stop: %v\n%s", err, p.log())
	}
}
