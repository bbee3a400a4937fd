package kafka

import (
	"context"
	"testing"

	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

// TestRoundTrip: specs reach the agent of their cluster only, statuses and
// broadcasts reach the right side, attributes and extensions (empty ones
// included) survive the binary binding.
func TestRoundTrip(t *testing.T) {
	c := runKafka(t, 0, t.TempDir())
	o := opts(c)
	src := must(NewSource("hub1", o))
	a1 := must(NewAgent("agent1", "cluster1", o))
	a2 := must(NewAgent("agent2", "cluster2", o))
	srcIn, _ := start(t, src)
	in1, _ := start(t, a1)
	in2, _ := start(t, a2)

	spec := newEvent(specCreate, "hub1", "cluster1", "")
	spec.SetExtension("resourceid", "r1")
	spec.SetExtension("resourceversion", 3)
	if err := spec.SetData("application/json", map[string]any{"size": 1}); err != nil {
		t.Fatal(err)
	}
	send(t, src, spec)
	bcast := newEvent(statusResync, "hub1", "", "")
	send(t, src, bcast)
	status := newEvent(statusUpdate, "agent1", "cluster1", "hub1")
	send(t, a1, status)
	specResyncAll := newEvent(specResync, "agent2", "cluster2", "")
	send(t, a2, specResyncAll)

	testkit.Eventually(t, testTimeout, func() bool {
		return in1.ids()[spec.ID()] == 1 && in1.ids()[bcast.ID()] == 1 && in2.ids()[bcast.ID()] == 1 &&
			srcIn.ids()[status.ID()] == 1 && srcIn.ids()[specResyncAll.ID()] == 1
	}, "events not routed: agent1 %v agent2 %v source %v", in1.ids(), in2.ids(), srcIn.ids())
	if in2.ids()[spec.ID()] != 0 {
		t.Error("cluster2's agent got cluster1's spec")
	}
	got, _ := in1.get(spec.ID())
	if got.Type() != specCreate || got.Source() != "hub1" || got.DataContentType() != "application/json" || string(got.Data()) != `{"size":1}` {
		t.Errorf("spec arrived as %v", got)
	}
	ext := got.Extensions()
	if ext["clustername"] != "cluster1" || ext["resourceid"] != "r1" || ext["resourceversion"] != "3" {
		t.Errorf("extensions arrived as %v", ext)
	}
	if v, ok := ext["originalsource"]; !ok || v != "" {
		t.Errorf("empty originalsource arrived as %v, %v", v, ok)
	}
}

// TestSharedGroup: two replicas of a source in the default group get each
// status once between them; a replica in a group of its own gets all.
func TestSharedGroup(t *testing.T) {
	c := runKafka(t, 0, t.TempDir())
	o := opts(c)
	r1 := must(NewSource("hub1", o))
	r2 := must(NewSource("hub1", o))
	own := o
	own.Group = "audit"
	alone := must(NewSource("hub1", own))
	agent := must(NewAgent("agent1", "cluster1", o))
	ctx := context.Background()
	if err := agent.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	defer agent.Close(ctx)
	// The topic exists before the group joins, so both replicas get a
	// share of its partitions.
	first := newEvent(statusUpdate, "agent1", "cluster1", "hub1")
	send(t, agent, first)
	in1, _ := start(t, r1)
	in2, _ := start(t, r2)
	in3, _ := start(t, alone)
	testkit.Eventually(t, testTimeout, func() bool { return in1.ids()[first.ID()]+in2.ids()[first.ID()] == 1 }, "the group did not get the first status")

	const n = 30
	var ids []string
	for i := 0; i < n; i++ {
		e := newEvent(statusUpdate, "agent1", "cluster1", "hub1")
		ids = append(ids, e.ID())
		send(t, agent, e)
	}
	testkit.Eventually(t, testTimeout, func() bool { return len(in3.ids()) == n+1 }, "the own-group source got %d of %d", len(in3.ids()), n+1)
	testkit.Eventually(t, testTimeout, func() bool { return len(in1.ids())+len(in2.ids()) == n+1 }, "the group got %d+%d of %d", len(in1.ids()), len(in2.ids()), n+1)
	for _, id := range ids {
		if got := in1.ids()[id] + in2.ids()[id]; got != 1 {
			t.Fatalf("status %s delivered %d times in the group", id, got)
		}
	}
}

// TestResumeAfterRestart: an agent that comes back gets the specs sent
// while it was away and not those it had handled (committed offsets).
func TestResumeAfterRestart(t *testing.T) {
	c := runKafka(t, 0, t.TempDir())
	o := opts(c)
	src := must(NewSource("hub1", o))
	ctx := context.Background()
	if err := src.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	defer src.Close(ctx)
	a := must(NewAgent("agent1", "cluster1", o))
	in, stop := start(t, a)
	first := newEvent(specCreate, "hub1", "cluster1", "")
	send(t, src, first)
	testkit.Eventually(t, testTimeout, func() bool { return in.ids()[first.ID()] == 1 }, "first spec not received")
	stop()

	away := newEvent(specCreate, "hub1", "cluster1", "")
	send(t, src, away)
	back := must(NewAgent("agent1", "cluster1", o))
	inBack, _ := start(t, back)
	testkit.Eventually(t, testTimeout, func() bool { return inBack.ids()[away.ID()] == 1 }, "spec sent while away not delivered: %v", inBack.ids())
	if inBack.ids()[first.ID()] != 0 {
		t.Error("the handled spec was delivered again")
	}
}

// TestNewClusterTopic: a source's first spec for a cluster creates the
// topic, and the agent that subscribed before it existed finds it and
// gets that first spec.
func TestNewClusterTopic(t *testing.T) {
	c := runKafka(t, 0, t.TempDir())
	o := opts(c)
	a := must(NewAgent("agent7", "cluster7", o))
	in, _ := start(t, a)
	src := must(NewSource("hub1", o))
	ctx := context.Background()
	if err := src.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	defer src.Close(ctx)
	e := newEvent(specCreate, "hub1", "cluster7", "")
	send(t, src, e)
	testkit.Eventually(t, testTimeout, func() bool { return in.ids()[e.ID()] == 1 }, "first spec on a new topic not received")
}

// TestBrokerRestart: after the broker restarts (same port, same data) the
// transport is reconnected by the client as the cloudsync clients do
// (Close, Connect, Subscribe) and events flow again.
func TestBrokerRestart(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	c := runKafka(t, port, dir)
	o := opts(c)
	src := must(NewSource("hub1", o))
	a := must(NewAgent("agent1", "cluster1", o))
	ctx := context.Background()
	if err := src.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	defer src.Close(ctx)
	in, stop := start(t, a)
	before := newEvent(specCreate, "hub1", "cluster1", "")
	send(t, src, before)
	testkit.Eventually(t, testTimeout, func() bool { return in.ids()[before.ID()] == 1 }, "spec before the restart not received")
	stop()

	c.Close()
	runKafka(t, port, dir)
	testkit.Eventually(t, testTimeout, func() bool { return src.Connect(ctx) == nil }, "source does not reconnect")
	after := newEvent(specCreate, "hub1", "cluster1", "")
	send(t, src, after)
	in2, _ := start(t, a)
	testkit.Eventually(t, testTimeout, func() bool { return in2.ids()[after.ID()] == 1 }, "spec after the restart not received")
	if in2.ids()[before.ID()] != 0 {
		t.Error("the committed spec was delivered again after the restart")
	}
}
