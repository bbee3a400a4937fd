// Package cloudsynctest has a source/agent test fixture for cloudsync
// transports: a source and an agent client over *cloudsync.Resource with
// in-memory stores, an agent that applies specs and reports a status for
// each, a source that records the statuses, and a check that both sides
// agree. Transport packages use it to prove the protocol end to end.
package cloudsynctest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/pkg/cloudsync"
)

// DataType is the data type of the fixture's resources.
var DataType = cloudsync.DataType{Group: "io.eventbridge.cloudsynctest", Version: "v1", Resource: "resources"}

// Codec is the fixture's codec.
var Codec = cloudsync.ResourceCodec{Type: DataType}

// Type returns the event type of the fixture's data type.
func Type(sub cloudsync.SubResource, a cloudsync.Action) cloudsync.EventType {
	return cloudsync.EventType{DataType: DataType, SubResource: sub, Action: a}
}

// ConnLog records a client's connection events.
type ConnLog struct {
	mu     sync.Mutex
	events []cloudsync.ConnectionEvent
}

// Add records e (use as a WithConnectionHandler callback).
func (l *ConnLog) Add(e cloudsync.ConnectionEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
}

// Count returns how many events of state were recorded (with a nil Err
// when okOnly).
func (l *ConnLog) Count(state cloudsync.ConnectionState, okOnly bool) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, e := range l.events {
		if e.State == state && (!okOnly || e.Err == nil) {
			n++
		}
	}
	return n
}

// ResyncedAfterResubscribe reports whether a successful Resynced follows
// a Resubscribed: the automatic resync after a reconnect ran.
func (l *ConnLog) ResyncedAfterResubscribe() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	seen := false
	for _, e := range l.events {
		switch {
		case e.State == cloudsync.Resubscribed:
			seen = true
		case seen && e.State == cloudsync.Resynced && e.Err == nil:
			return true
		}
	}
	return false
}

// String lists the states.
func (l *ConnLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := ""
	for _, e := range l.events {
		s += string(e.State)
		if e.Err != nil {
			s += "(" + e.Err.Error() + ")"
		}
		s += " "
	}
	return s
}

// Fixture is a source and an agent that keep resources in sync.
type Fixture struct {
	T                 testing.TB
	SourceID, AgentID string
	Cluster           string
	SourceStore       *cloudsync.ResourceStore
	AgentStore        *cloudsync.ResourceStore
	Source            *cloudsync.SourceClient[*cloudsync.Resource]
	Agent             *cloudsync.AgentClient[*cloudsync.Resource]
	SourceConn        ConnLog
	AgentConn         ConnLog
	mu                sync.Mutex
	specActions       []string // "<action> <id> v<version>" as the agent handled them
	statuses          []string // "<id> <status>" as the source handled them
}

// Options tune NewFixture.
type Options struct {
	SourceOptions []cloudsync.Option
	AgentOptions  []cloudsync.Option
	// NoSubscribe leaves Subscribe to the test.
	NoSubscribe bool
}

// New connects a source (sourceID) and an agent (agentID of cluster)
// over the given transports and subscribes both (unless NoSubscribe).
// The stores may be pre-filled with Seed before.
func New(t testing.TB, ctx context.Context, sourceID, agentID, cluster string, st, at cloudsync.Transport, seed func(source, agent *cloudsync.ResourceStore), o Options) *Fixture {
	t.Helper()
	f := &Fixture{T: t, SourceID: sourceID, AgentID: agentID, Cluster: cluster,
		SourceStore: cloudsync.NewResourceStore(), AgentStore: cloudsync.NewResourceStore()}
	if seed != nil {
		seed(f.SourceStore, f.AgentStore)
	}
	sopts := append([]cloudsync.Option{cloudsync.WithConnectionHandler(f.SourceConn.Add), cloudsync.WithBackoff(100*time.Millisecond, 2*time.Second)}, o.SourceOptions...)
	aopts := append([]cloudsync.Option{cloudsync.WithConnectionHandler(f.AgentConn.Add), cloudsync.WithBackoff(100*time.Millisecond, 2*time.Second)}, o.AgentOptions...)
	var err error
	f.Source, err = cloudsync.NewSourceClient(ctx, cloudsync.SourceOptions{SourceID: sourceID, Transport: st}, f.SourceStore, cloudsync.HashResourceStatus, cloudsync.Codec[*cloudsync.Resource](Codec), sopts...)
	if err != nil {
		t.Fatalf("source client: %v", err)
	}
	t.Cleanup(func() { _ = f.Source.Close(context.Background()) })
	f.Agent, err = cloudsync.NewAgentClient(ctx, cloudsync.AgentOptions{AgentID: agentID, ClusterName: cluster, Transport: at}, f.AgentStore, cloudsync.HashResourceStatus, cloudsync.Codec[*cloudsync.Resource](Codec), aopts...)
	if err != nil {
		t.Fatalf("agent client: %v", err)
	}
	t.Cleanup(func() { _ = f.Agent.Close(context.Background()) })
	if !o.NoSubscribe {
		f.SubscribeSource(ctx)
		f.SubscribeAgent(ctx)
	}
	return f
}

// SubscribeSource subscribes the source with the fixture's handler: a
// status is stored on the source's copy.
func (f *Fixture) SubscribeSource(ctx context.Context) {
	f.T.Helper()
	err := f.Source.Subscribe(ctx, func(ctx context.Context, action cloudsync.ResourceAction, r *cloudsync.Resource) error {
		f.mu.Lock()
		f.statuses = append(f.statuses, fmt.Sprintf("%s %s", r.ID, r.Status))
		f.mu.Unlock()
		f.SourceStore.Update(r.ID, func(cur *cloudsync.Resource) { cur.Status = r.Status })
		return nil
	})
	if err != nil {
		f.T.Fatalf("source subscribe: %v", err)
	}
}

// StatusFor is the status the agent reports for a spec: {"applied":
// <version>, "spec": <spec>}.
func StatusFor(r *cloudsync.Resource) json.RawMessage {
	b, _ := json.Marshal(map[string]any{"applied": r.Version, "spec": r.Spec})
	return b
}

// SubscribeAgent subscribes the agent with the fixture's handler: a spec
// is applied to the agent's store and its status (StatusFor) published;
// a deletion removes it.
func (f *Fixture) SubscribeAgent(ctx context.Context) {
	f.T.Helper()
	err := f.Agent.Subscribe(ctx, func(ctx context.Context, action cloudsync.ResourceAction, r *cloudsync.Resource) error {
		f.mu.Lock()
		f.specActions = append(f.specActions, fmt.Sprintf("%s %s v%d", action, r.ID, r.Version))
		f.mu.Unlock()
		switch action {
		case cloudsync.Deleted:
			f.AgentStore.Delete(r.ID)
			return nil
		case cloudsync.Added, cloudsync.Modified:
			r.Status = StatusFor(r)
			f.AgentStore.Put(r)
			err := f.Agent.Publish(ctx, Type(cloudsync.SubResourceStatus, cloudsync.UpdateRequest), r)
			if errors.Is(err, cloudsync.ErrNotConnected) {
				return nil // the status resync catches up
			}
			return err
		}
		return nil
	})
	if err != nil {
		f.T.Fatalf("agent subscribe: %v", err)
	}
}

// SpecActions returns what the agent's handler saw.
func (f *Fixture) SpecActions() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.specActions...)
}

// Statuses returns what the source's handler saw.
func (f *Fixture) Statuses() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.statuses...)
}

// Res builds a resource of the fixture's cluster and source.
func (f *Fixture) Res(id string, version int64, spec string) *cloudsync.Resource {
	return &cloudsync.Resource{ID: id, Version: version, ClusterName: f.Cluster, Source: f.SourceID, Spec: json.RawMessage(spec)}
}

// Apply stores r on the source and publishes it (create_request for a
// new id, update_request else); a publish while disconnected is left to
// the resync.
func (f *Fixture) Apply(ctx context.Context, r *cloudsync.Resource) error {
	action := cloudsync.UpdateRequest
	if _, ok := f.SourceStore.Get(r.ID); !ok {
		action = cloudsync.CreateRequest
	}
	f.SourceStore.Put(r)
	err := f.Source.Publish(ctx, Type(cloudsync.SubResourceSpec, action), r)
	if errors.Is(err, cloudsync.ErrNotConnected) {
		return nil
	}
	return err
}

// Delete marks id deleting on the source and publishes a delete_request.
func (f *Fixture) Delete(ctx context.Context, id string) error {
	now := time.Now()
	var r *cloudsync.Resource
	f.SourceStore.Update(id, func(cur *cloudsync.Resource) {
		cur.Deleting = &now
		r = cur.Clone()
	})
	if r == nil {
		return fmt.Errorf("no resource %s", id)
	}
	err := f.Source.Publish(ctx, Type(cloudsync.SubResourceSpec, cloudsync.DeleteRequest), r)
	if errors.Is(err, cloudsync.ErrNotConnected) {
		return nil
	}
	return err
}

// Disagreement says how the two sides differ ("" when they agree): the
// agent must hold exactly the source's resources that are not being
// deleted, at the same version and spec, and the source's copy of each
// status must hash like the agent's.
func (f *Fixture) Disagreement() string {
	src, _ := f.SourceStore.List(cloudsync.ListOptions{})
	agt, _ := f.AgentStore.List(cloudsync.ListOptions{})
	am := map[string]*cloudsync.Resource{}
	for _, r := range agt {
		am[r.ID] = r
	}
	for _, s := range src {
		a, ok := am[s.ID]
		if s.Deleting != nil {
			if ok {
				return fmt.Sprintf("%s is deleted on the source but still on the agent", s.ID)
			}
			continue
		}
		if !ok {
			return fmt.Sprintf("%s v%d is missing on the agent", s.ID, s.Version)
		}
		delete(am, s.ID)
		if a.Version != s.Version || string(a.Spec) != string(s.Spec) {
			return fmt.Sprintf("%s: agent has v%d %s, source v%d %s", s.ID, a.Version, a.Spec, s.Version, s.Spec)
		}
		sh, _ := cloudsync.HashResourceStatus(s)
		ah, _ := cloudsync.HashResourceStatus(a)
		if sh != ah {
			return fmt.Sprintf("%s: source has status %s, agent %s", s.ID, s.Status, a.Status)
		}
	}
	for id := range am {
		return fmt.Sprintf("%s is on the agent but not on the source", id)
	}
	return ""
}

// WaitAgree waits up to timeout for Disagreement to be "".
func (f *Fixture) WaitAgree(timeout time.Duration) {
	f.T.Helper()
	Eventually(f.T, timeout, "source and agent agree", f.Disagreement)
}

// Eventually polls check until it returns "" or timeout passes; then the
// test fails with what check said last.
func Eventually(t testing.TB, timeout time.Duration, what string, check func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		msg := check()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v, not yet %s: %s", timeout, what, msg)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
