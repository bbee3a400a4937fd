package natsjs

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

// TestRoundTrip: specs reach the agent of their cluster only, statuses and
// broadcasts reach the right side, attributes and extensions (empty ones
// included) survive, in core NATS and JetStream.
func TestRoundTrip(t *testing.T) {
	srv := runServer(t, 0, t.TempDir())
	for _, mode := range []string{"core", "jetstream"} {
		t.Run(mode, func(t *testing.T) {
			o := Options{URL: url(srv), Prefix: uniquePrefix(t)}
			if mode == "jetstream" {
				o.JetStream = &JetStreamOptions{}
			}
			src, _ := NewSource("hub1", o)
			a1, _ := NewAgent("agent1", "cluster1", o)
			a2, _ := NewAgent("agent2", "cluster2", o)
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
			b, _ := in2.get(bcast.ID())
			if v, ok := b.Extensions()["clustername"]; !ok || v != "" {
				t.Errorf("empty clustername arrived as %v, %v", v, ok)
			}
		})
	}
}

// TestQueueGroup: two replicas of a source in one queue group get each
// status once between them; without a group each gets it.
func TestQueueGroup(t *testing.T) {
	srv := runServer(t, 0, t.TempDir())
	prefix := uniquePrefix(t)
	shared := Options{URL: url(srv), Prefix: prefix, QueueGroup: "statussubscribers"}
	r1, _ := NewSource("hub1", shared)
	r2, _ := NewSource("hub1", shared)
	alone, _ := NewSource("hub1", Options{URL: url(srv), Prefix: prefix})
	agent, _ := NewAgent("agent1", "cluster1", Options{URL: url(srv), Prefix: prefix})
	in1, _ := start(t, r1)
	in2, _ := start(t, r2)
	in3, _ := start(t, alone)
	ctx := context.Background()
	if err := agent.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	defer agent.Close(ctx)
	const n = 40
	var ids []string
	for i := 0; i < n; i++ {
		e := newEvent(statusUpdate, "agent1", "cluster1", "hub1")
		ids = append(ids, e.ID())
		send(t, agent, e)
	}
	testkit.Eventually(t, testTimeout, func() bool { return len(in3.ids()) == n }, "the source outside the group got %d of %d", len(in3.ids()), n)
	testkit.Eventually(t, testTimeout, func() bool { return len(in1.ids())+len(in2.ids()) == n }, "the group got %d+%d of %d", len(in1.ids()), len(in2.ids()), n)
	for _, id := range ids {
		if in1.ids()[id]+in2.ids()[id] != 1 {
			t.Fatalf("event %s delivered %d times in the group", id, in1.ids()[id]+in2.ids()[id])
		}
	}
}

// TestJetStreamDurable: specs published while the agent is away reach it
// when it comes back with its durable consumer; an ephemeral agent does
// not get them.
func TestJetStreamDurable(t *testing.T) {
	srv := runServer(t, 0, t.TempDir())
	o := Options{URL: url(srv), Prefix: uniquePrefix(t), JetStream: &JetStreamOptions{}}
	src, _ := NewSource("hub1", o)
	ctx := context.Background()
	if err := src.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	defer src.Close(ctx)

	durable := o
	durable.JetStream = &JetStreamOptions{Durable: "agent1"}
	a, _ := NewAgent("agent1", "cluster1", durable)
	in, _ := start(t, a)
	first := newEvent(specCreate, "hub1", "cluster1", "")
	send(t, src, first)
	testkit.Eventually(t, testTimeout, func() bool { return in.ids()[first.ID()] == 1 }, "first spec not received")
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}

	away := newEvent(specCreate, "hub1", "cluster1", "")
	send(t, src, away)
	back, _ := NewAgent("agent1", "cluster1", durable)
	inBack, _ := start(t, back)
	eph, _ := NewAgent("agent9", "cluster1", o)
	inEph, _ := start(t, eph)
	testkit.Eventually(t, testTimeout, func() bool { return inBack.ids()[away.ID()] == 1 }, "spec published while away not delivered: %v", inBack.ids())
	if inBack.ids()[first.ID()] != 0 {
		t.Error("the acknowledged spec was delivered again")
	}
	if inEph.ids()[away.ID()] != 0 {
		t.Error("an ephemeral consumer got an event published before it subscribed")
	}
}

// TestReconnect: a server restart ends Receive and reports on ErrorChan;
// Connect and Subscribe again make the transport work, in both modes.
func TestReconnect(t *testing.T) {
	for _, mode := range []string{"core", "jetstream"} {
		t.Run(mode, func(t *testing.T) {
			dir := t.TempDir()
			srv := runServer(t, 0, dir)
			o := Options{URL: url(srv), Prefix: uniquePrefix(t)}
			if mode == "jetstream" {
				o.JetStream = &JetStreamOptions{Durable: "agent1"}
			}
			src, _ := NewSource("hub1", o)
			a, _ := NewAgent("agent1", "cluster1", o)
			ctx := context.Background()
			if err := src.Connect(ctx); err != nil {
				t.Fatal(err)
			}
			defer src.Close(ctx)
			_, done := start(t, a)

			tcpPort := srv.Addr().(*net.TCPAddr).Port
			srv.Shutdown()
			srv.WaitForShutdown()
			select {
			case err := <-a.ErrorChan():
				if err == nil {
					t.Fatal("nil error on ErrorChan")
				}
			case <-time.After(testTimeout):
				t.Fatal("no error on ErrorChan after the server went away")
			}
			select {
			case <-done:
			case <-time.After(testTimeout):
				t.Fatal("Receive did not return after the connection ended")
			}

			runServer(t, tcpPort, dir)
			cctx, cancel := context.WithTimeout(ctx, testTimeout)
			defer cancel()
			testkit.Eventually(t, testTimeout, func() bool { return src.Connect(cctx) == nil && a.Connect(cctx) == nil }, "no reconnect")
			in, _ := receive(t, a)
			e := newEvent(specCreate, "hub1", "cluster1", "")
			send(t, src, e)
			testkit.Eventually(t, testTimeout, func() bool { return in.ids()[e.ID()] == 1 }, "no event after the reconnect")
		})
	}
}
