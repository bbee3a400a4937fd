package cloudsync_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"

	"github.com/eventbridge-dev/eventbridge/pkg/cloudsync"
	"github.com/eventbridge-dev/eventbridge/pkg/cloudsync/cloudsynctest"
	"github.com/eventbridge-dev/eventbridge/pkg/cloudsync/memtransport"
)

const wait = 30 * time.Second

func sentOf(b *memtransport.Broker, et cloudsync.EventType) []cloudevents.Event {
	var out []cloudevents.Event
	for _, e := range b.Sent() {
		if e.Type() == et.String() {
			out = append(out, e)
		}
	}
	return out
}

func resourceIDs(evts []cloudevents.Event) []string {
	out := []string{}
	for i := range evts {
		out = append(out, cloudsync.ExtString(&evts[i], cloudsync.ExtResourceID))
	}
	sort.Strings(out)
	return out
}

// An agent that starts with stale versions gets exactly the newer specs,
// deletions for what the source deletes or no longer has, and nothing
// for what is current.
func TestAgentSpecResync(t *testing.T) {
	ctx := t.Context()
	b := memtransport.NewBroker()
	var f *cloudsynctest.Fixture
	seed := func(src, agt *cloudsync.ResourceStore) {
		mk := func(id string, v int64) *cloudsync.Resource {
			return &cloudsync.Resource{ID: id, Version: v, ClusterName: "c1", Source: "s1", Spec: json.RawMessage(`{"v":` + string(rune('0'+v)) + `}`)}
		}
		now := time.Now()
		src.Put(mk("newer", 2))
		src.Put(mk("same", 1))
		gone := mk("deleting", 1)
		gone.Deleting = &now
		src.Put(gone)
		src.Put(mk("added", 1))
		agt.Put(mk("newer", 1))
		agt.Put(mk("same", 1))
		agt.Put(mk("deleting", 1))
		agt.Put(mk("orphan", 4)) // the source no longer has it
	}
	f = cloudsynctest.New(t, ctx, "s1", "agent1", "c1", b.Source("s1"), b.Agent("c1"), seed, cloudsynctest.Options{
		SourceOptions: []cloudsync.Option{cloudsync.WithResync(false)},
	})
	// the source's statuses are empty: make them match what the agent
	// reports, so only the spec direction is under test.
	f.WaitAgree(wait)

	resp := sentOf(b, cloudsynctest.Type(cloudsync.SubResourceSpec, cloudsync.ResyncResponse))
	if got, want := resourceIDs(resp), []string{"added", "deleting", "newer", "orphan"}; !slices.Equal(got, want) {
		t.Fatalf("spec resync responses for %v, want %v", got, want)
	}
	for i := range resp {
		e := &resp[i]
		id := cloudsync.ExtString(e, cloudsync.ExtResourceID)
		_, del, _ := cloudsync.ExtTime(e, cloudsync.ExtDeletionTimestamp)
		if wantDel := id == "deleting" || id == "orphan"; del != wantDel || (del && len(e.Data()) != 0) {
			t.Errorf("%s: deletiontimestamp %v, data %q", id, del, e.Data())
		}
		if id == "orphan" && cloudsync.ExtString(e, cloudsync.ExtResourceVersion) != "4" {
			t.Errorf("the deletion of an id the source lacks carries the agent's version: %v", e.Extensions())
		}
		if cloudsync.ExtString(e, cloudsync.ExtClusterName) != "c1" {
			t.Errorf("%s: clustername %v", id, e.Extensions())
		}
	}
	req := sentOf(b, cloudsynctest.Type(cloudsync.SubResourceSpec, cloudsync.ResyncRequest))
	if len(req) != 1 {
		t.Fatalf("%d spec resync requests, want 1", len(req))
	}
	var body cloudsync.ResourceVersionList
	if err := json.Unmarshal(req[0].Data(), &body); err != nil {
		t.Fatal(err)
	}
	if len(body.Versions) != 4 || cloudsync.ExtString(&req[0], cloudsync.ExtClusterName) != "c1" || req[0].Source() != "agent1" {
		t.Errorf("resync request %s", req[0])
	}
	if _, ok := req[0].Extensions()[cloudsync.ExtOriginalSource]; !ok {
		t.Error("the resync request has no originalsource extension")
	}
	if got := f.SpecActions(); !slices.Contains(got, "DELETED orphan v4") || !slices.Contains(got, "ADDED added v1") || !slices.Contains(got, "MODIFIED newer v2") {
		t.Errorf("agent handled %v", got)
	}
}

// A source asking for statuses gets exactly those whose hash differs;
// an empty list gets all.
func TestSourceStatusResync(t *testing.T) {
	ctx := t.Context()
	b := memtransport.NewBroker()
	seed := func(src, agt *cloudsync.ResourceStore) {
		for _, id := range []string{"a", "b", "c"} {
			r := &cloudsync.Resource{ID: id, Version: 1, ClusterName: "c1", Source: "s1", Spec: json.RawMessage(`{}`)}
			r.Status = cloudsynctest.StatusFor(r)
			agt.Put(r)
			if id != "b" { // the source's copy of b is stale
				src.Put(r)
			} else {
				stale := r.Clone()
				stale.Status = json.RawMessage(`{"old":true}`)
				src.Put(stale)
			}
		}
	}
	f := cloudsynctest.New(t, ctx, "s1", "agent1", "c1", b.Source("s1"), b.Agent("c1"), seed, cloudsynctest.Options{
		AgentOptions: []cloudsync.Option{cloudsync.WithResync(false)},
		NoSubscribe:  true,
	})
	// the agent first: the source's automatic resync must find it
	f.SubscribeAgent(ctx)
	f.SubscribeSource(ctx)
	f.WaitAgree(wait)
	resp := sentOf(b, cloudsynctest.Type(cloudsync.SubResourceStatus, cloudsync.ResyncResponse))
	if got := resourceIDs(resp); !slices.Equal(got, []string{"b"}) {
		t.Fatalf("status resync responses for %v, want [b]", got)
	}
	req := sentOf(b, cloudsynctest.Type(cloudsync.SubResourceStatus, cloudsync.ResyncRequest))
	if len(req) != 1 || cloudsync.ExtString(&req[0], cloudsync.ExtClusterName) != "" {
		t.Fatalf("status resync requests %v", req)
	}
	var body cloudsync.ResourceStatusHashList
	if err := json.Unmarshal(req[0].Data(), &body); err != nil || len(body.Hashes) != 3 {
		t.Fatalf("request body %s (%v)", req[0].Data(), err)
	}

	// an explicit resync with an empty source store asks for all
	for _, id := range []string{"a", "b", "c"} {
		f.SourceStore.Delete(id)
	}
	if err := f.Source.Resync(ctx, "c1"); err != nil {
		t.Fatal(err)
	}
	cloudsynctest.Eventually(t, wait, "all three statuses resent", func() string {
		got := resourceIDs(sentOf(b, cloudsynctest.Type(cloudsync.SubResourceStatus, cloudsync.ResyncResponse)))
		if !slices.Equal(got, []string{"a", "b", "b", "c"}) {
			return strings.Join(got, ",")
		}
		return ""
	})
}

// The agent handles spec events of its cluster and status resync
// requests; it drops other clusters, other data types, spec resync
// requests and status events. The source drops spec events.
func TestReceiveFiltering(t *testing.T) {
	ctx := t.Context()
	b := memtransport.NewBroker()
	f := cloudsynctest.New(t, ctx, "s1", "agent1", "c1", b.Source("s1"), b.Agent("c1"), nil, cloudsynctest.Options{
		SourceOptions: []cloudsync.Option{cloudsync.WithResync(false)},
		AgentOptions:  []cloudsync.Option{cloudsync.WithResync(false)},
	})
	raw := b.Source("intruder")
	if err := raw.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	send := func(typ, cluster, id string) {
		t.Helper()
		v := int64(1)
		evt := cloudsync.NewEvent("s1", cloudsync.EventType{}, cloudsync.EventOptions{ClusterName: cluster, ResourceID: id, ResourceVersion: &v})
		evt.SetType(typ)
		_ = evt.SetData(cloudevents.ApplicationJSON, json.RawMessage(`{}`))
		if err := raw.Send(ctx, evt); err != nil {
			t.Fatal(err)
		}
	}
	dt := cloudsynctest.DataType.String()
	send(dt+".spec.create_request", "", "all-clusters")                  // clustername "" is not the agent's
	send("other.v1.things.spec.create_request", "c1", "other-type")      // another data type
	send(dt+".spec.resync_request", "c1", "spec-resync")                 // agents do not answer spec resyncs
	send(dt+".status.update_request", "c1", "status-to-agent")           // agents do not take statuses
	send("io.open-cluster-management.cloudevents.heartbeat", "c1", "hb") // heartbeat
	send(dt+".spec.create_request", "c1", "good")                        // the control
	cloudsynctest.Eventually(t, wait, "the agent handled the good event", func() string {
		if !slices.Contains(f.SpecActions(), "ADDED good v1") {
			return fmt.Sprintf("handled %v", f.SpecActions())
		}
		return ""
	})
	if got := f.SpecActions(); len(got) != 1 {
		t.Errorf("the agent handled %v, want only the good event", got)
	}
	if _, ok := f.AgentStore.Get("all-clusters"); ok {
		t.Error("the agent took a spec event for clustername \"\"")
	}
	// the agent sent nothing but the status of "good"
	for _, e := range b.Sent() {
		if e.Source() == "agent1" && cloudsync.ExtString(&e, cloudsync.ExtResourceID) != "good" {
			t.Errorf("the agent answered %s", e.Type())
		}
	}

	// the source drops spec events an agent would send
	agentRaw := b.Agent("c9")
	if err := agentRaw.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	v := int64(1)
	bad := cloudsync.NewEvent("agent9", cloudsynctest.Type(cloudsync.SubResourceSpec, cloudsync.UpdateRequest), cloudsync.EventOptions{ClusterName: "c9", ResourceID: "spec-to-source", ResourceVersion: &v})
	good := cloudsync.NewEvent("agent9", cloudsynctest.Type(cloudsync.SubResourceStatus, cloudsync.UpdateRequest), cloudsync.EventOptions{ClusterName: "c9", ResourceID: "status-ok", ResourceVersion: &v})
	_ = good.SetData(cloudevents.ApplicationJSON, json.RawMessage(`{"ok":1}`))
	for _, e := range []cloudevents.Event{bad, good} {
		if err := agentRaw.Send(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	cloudsynctest.Eventually(t, wait, "the source handled the status", func() string {
		for _, s := range f.Statuses() {
			if strings.HasPrefix(s, "status-ok ") {
				return ""
			}
		}
		return fmt.Sprintf("handled %v", f.Statuses())
	})
	for _, s := range f.Statuses() {
		if strings.HasPrefix(s, "spec-to-source") {
			t.Errorf("the source handled a spec event: %v", f.Statuses())
		}
	}
}

// A broken connection: the clients report Lost, reconnect with backoff
// (the broker refuses for a while), resubscribe, fire Resubscribed, run
// the automatic resync, and end in agreement with what changed while
// they were away.
func TestReconnectResync(t *testing.T) {
	ctx := t.Context()
	b := memtransport.NewBroker()
	f := cloudsynctest.New(t, ctx, "s1", "agent1", "c1", b.Source("s1"), b.Agent("c1"), nil, cloudsynctest.Options{})
	for _, id := range []string{"a", "b", "c"} {
		if err := f.Apply(ctx, f.Res(id, 1, `{"n":1}`)); err != nil {
			t.Fatal(err)
		}
	}
	f.WaitAgree(wait)

	b.SetDown(true)
	cloudsynctest.Eventually(t, wait, "both clients report the loss", func() string {
		if f.SourceConn.Count(cloudsync.Lost, false) == 0 || f.AgentConn.Count(cloudsync.Lost, false) == 0 {
			return f.SourceConn.String() + " / " + f.AgentConn.String()
		}
		return ""
	})
	if err := f.Source.Publish(ctx, cloudsynctest.Type(cloudsync.SubResourceSpec, cloudsync.UpdateRequest), f.Res("a", 2, `{}`)); err == nil {
		t.Error("Publish while disconnected succeeded")
	}
	// while away: a changes, b is deleted, d is new, c's status drifts on the agent
	f.SourceStore.Put(f.Res("a", 2, `{"n":2}`))
	f.SourceStore.Delete("b")
	f.SourceStore.Put(f.Res("d", 1, `{"n":1}`))
	f.AgentStore.Update("c", func(r *cloudsync.Resource) { r.Status = json.RawMessage(`{"drift":true}`) })
	f.SourceStore.Update("c", func(r *cloudsync.Resource) { r.Status = json.RawMessage(`{"drift":true}`) })
	f.AgentStore.Update("c", func(r *cloudsync.Resource) { r.Status = json.RawMessage(`{"drift":2}`) })
	b.SetDown(false)

	cloudsynctest.Eventually(t, wait, "resubscribed and resynced", func() string {
		if !f.SourceConn.ResyncedAfterResubscribe() || !f.AgentConn.ResyncedAfterResubscribe() {
			return f.SourceConn.String() + " / " + f.AgentConn.String()
		}
		return ""
	})
	f.WaitAgree(wait)
	if _, ok := f.AgentStore.Get("b"); ok {
		t.Error("b survived on the agent")
	}
	if r, _ := f.SourceStore.Get("c"); string(r.Status) != `{"drift":2}` {
		t.Errorf("the source has c's status %s", r.Status)
	}
	if f.Source.IsConnected() != true || f.Agent.IsConnected() != true {
		t.Error("not connected after the reconnect")
	}
}

// WithResync(false): no resync request after Subscribe; the explicit
// Resync still works.
func TestResyncDisabled(t *testing.T) {
	ctx := t.Context()
	b := memtransport.NewBroker()
	f := cloudsynctest.New(t, ctx, "s1", "agent1", "c1", b.Source("s1"), b.Agent("c1"), nil, cloudsynctest.Options{
		SourceOptions: []cloudsync.Option{cloudsync.WithResync(false)},
		AgentOptions:  []cloudsync.Option{cloudsync.WithResync(false)},
	})
	if err := f.Apply(ctx, f.Res("a", 1, `{}`)); err != nil {
		t.Fatal(err)
	}
	f.WaitAgree(wait)
	for _, e := range b.Sent() {
		if strings.HasSuffix(e.Type(), ".resync_request") {
			t.Errorf("sent %s with resync disabled", e.Type())
		}
	}
	if n := f.AgentConn.Count(cloudsync.Resynced, false) + f.SourceConn.Count(cloudsync.Resynced, false); n != 0 {
		t.Errorf("%d Resynced events with resync disabled", n)
	}
	if err := f.Agent.Resync(ctx, "s1"); err != nil {
		t.Fatal(err)
	}
	if n := len(sentOf(b, cloudsynctest.Type(cloudsync.SubResourceSpec, cloudsync.ResyncRequest))); n != 1 {
		t.Errorf("%d spec resync requests after Resync, want 1", n)
	}
}

// Reconnects() carries the same events as the callback.
func TestReconnectsChannel(t *testing.T) {
	ctx := t.Context()
	b := memtransport.NewBroker()
	f := cloudsynctest.New(t, ctx, "s1", "agent1", "c1", b.Source("s1"), b.Agent("c1"), nil, cloudsynctest.Options{})
	b.Agent("c1") // unrelated port
	want := []cloudsync.ConnectionState{cloudsync.Connected, cloudsync.Subscribed}
	for _, s := range want {
		select {
		case e := <-f.Agent.Reconnects():
			if e.State != s {
				t.Fatalf("event %v, want %s", e, s)
			}
		case <-time.After(wait):
			t.Fatalf("no %s event", s)
		}
	}
	b.SetDown(true)
	deadline := time.After(wait)
	for {
		select {
		case e := <-f.Agent.Reconnects():
			if e.State == cloudsync.Lost {
				if e.Err == nil {
					t.Error("Lost without an error")
				}
				return
			}
		case <-deadline:
			t.Fatal("no Lost event")
		}
	}
}

// quietTransport's first Receive returns at once without reporting an
// error: a transport bug the client must survive.
type quietTransport struct {
	*memtransport.Transport
	quiet atomic.Bool
}

func (q *quietTransport) Receive(ctx context.Context, fn func(context.Context, cloudevents.Event)) error {
	if !q.quiet.Swap(true) {
		return nil
	}
	return q.Transport.Receive(ctx, fn)
}

// A Receive that ends without an error still leads to a reconnect.
func TestReceiveEndsSilently(t *testing.T) {
	ctx := t.Context()
	b := memtransport.NewBroker()
	at := &quietTransport{Transport: b.Agent("c1")}
	f := cloudsynctest.New(t, ctx, "s1", "agent1", "c1", b.Source("s1"), at, nil, cloudsynctest.Options{})
	cloudsynctest.Eventually(t, wait, "the agent resubscribed", func() string {
		if f.AgentConn.Count(cloudsync.Resubscribed, false) == 0 {
			return f.AgentConn.String()
		}
		return ""
	})
	if err := f.Apply(ctx, f.Res("a", 1, `{}`)); err != nil {
		t.Fatal(err)
	}
	f.WaitAgree(wait)
}
