package cloudsynctest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/pkg/cloudsync"
)

// Transports makes the transports of a scenario: each call a new one (a
// restarted side gets a new transport, as a restarted process would).
type Transports struct {
	Source func(t testing.TB, sourceID string) cloudsync.Transport
	Agent  func(t testing.TB, agentID, cluster string) cloudsync.Transport
	// RestartBroker, when set, stops the broker, calls whileDown, and
	// starts it again (same address, and the same data where the broker
	// keeps any).
	RestartBroker func(t testing.TB, whileDown func())
	// Timeout bounds each wait (default 60 s).
	Timeout time.Duration
}

// RunSync runs the sync scenario every transport must pass: specs
// created, updated and deleted reach the agent and their statuses come
// back; an agent that restarts with stale versions while the source
// changed gets the changes by the spec resync; and, with RestartBroker, a
// broker restart makes both sides report the loss, resubscribe, resync
// and agree again.
func RunSync(t *testing.T, tr Transports) {
	timeout := tr.Timeout
	if timeout == 0 {
		timeout = 60 * time.Second
	}
	ctx := t.Context()
	f := New(t, ctx, "source1", "agent1", "cluster1", tr.Source(t, "source1"), tr.Agent(t, "agent1", "cluster1"), nil, Options{})

	// create, update, delete; statuses come back
	for _, id := range []string{"a", "b", "c"} {
		if err := f.Apply(ctx, f.Res(id, 1, `{"n":1}`)); err != nil {
			t.Fatal(err)
		}
	}
	f.WaitAgree(timeout)
	if err := f.Apply(ctx, f.Res("a", 2, `{"n":2}`)); err != nil {
		t.Fatal(err)
	}
	if err := f.Delete(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	f.WaitAgree(timeout)
	if r, ok := f.SourceStore.Get("a"); !ok || string(r.Status) != string(StatusFor(f.Res("a", 2, `{"n":2}`))) {
		t.Fatalf("the source holds a's status %s, want the agent's report of v2", r.Status)
	}

	// the agent restarts; while it is away the source changes
	if err := f.Agent.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, r := range []*cloudsync.Resource{f.Res("a", 3, `{"n":3}`), f.Res("d", 1, `{"n":1}`)} {
		if err := f.Apply(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Delete(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	var err error
	f.Agent, err = cloudsync.NewAgentClient(ctx, cloudsync.AgentOptions{AgentID: "agent1", ClusterName: "cluster1", Transport: tr.Agent(t, "agent1", "cluster1")},
		f.AgentStore, cloudsync.HashResourceStatus, cloudsync.Codec[*cloudsync.Resource](Codec),
		cloudsync.WithConnectionHandler(f.AgentConn.Add), cloudsync.WithBackoff(100*time.Millisecond, 2*time.Second))
	if err != nil {
		t.Fatalf("restarted agent: %v", err)
	}
	t.Cleanup(func() { _ = f.Agent.Close(context.Background()) })
	f.SubscribeAgent(ctx)
	f.WaitAgree(timeout)
	if _, ok := f.AgentStore.Get("c"); ok {
		t.Fatal("c survived the agent's restart")
	}

	if tr.RestartBroker == nil {
		return
	}
	tr.RestartBroker(t, func() {
		Eventually(t, timeout, "both clients report the loss", func() string {
			if f.SourceConn.Count(cloudsync.Lost, false) == 0 || f.AgentConn.Count(cloudsync.Lost, false) == 0 {
				return f.SourceConn.String() + " / " + f.AgentConn.String()
			}
			return ""
		})
		// while the broker is down: a changes, d is deleted, e is new,
		// a's status drifts on the agent
		f.SourceStore.Put(f.Res("a", 4, `{"n":4}`))
		now := time.Now()
		f.SourceStore.Update("d", func(r *cloudsync.Resource) { r.Deleting = &now })
		f.SourceStore.Put(f.Res("e", 1, `{"n":1}`))
		f.AgentStore.Update("d", func(r *cloudsync.Resource) { r.Status = json.RawMessage(`{"drift":true}`) })
	})
	Eventually(t, timeout, "both sides resubscribed and resynced", func() string {
		if !f.SourceConn.ResyncedAfterResubscribe() || !f.AgentConn.ResyncedAfterResubscribe() {
			return f.SourceConn.String() + " / " + f.AgentConn.String()
		}
		return ""
	})
	f.WaitAgree(timeout)
	if _, ok := f.AgentStore.Get("d"); ok {
		t.Fatal("d survived on the agent")
	}
}
