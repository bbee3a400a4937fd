package interop

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"open-cluster-management.io/sdk-go/pkg/cloudevents/generic/types"
)

// pair says how to start the two sides of a scenario: which SDK plays the
// source, which the agent, and over which broker.
type pair struct {
	// startSource starts a source client for side against broker; it
	// resyncs the given clusters after a reconnect (OCM) or by itself (ours).
	startSource func(t *testing.T, ctx context.Context, broker string, side *sourceSide, clusters ...string)
	startAgent  func(t *testing.T, ctx context.Context, broker, sourceID string, side *agentSide)
	// broker is the address of the broker; restartable says whether the
	// scenario can cut it (a proxy in front of it) and how.
	broker func(t *testing.T) (addr string, cut, restore func())
	// brokerKeepsSpecs: the broker answers spec resyncs from the specs
	// published through it (eventbridge's gRPC broker, like OCM's), so
	// the source publishes its state before the agent asks.
	brokerKeepsSpecs bool
	// shared: sources subscribe to the agent events through an MQTT 5
	// shared subscription ($share/<group>/...), as OCM deploys status
	// consumers; agents publish to the plain topic.
	shared bool
}

func (p pair) newSource(id string) *sourceSide {
	s := newSourceSide(id)
	if p.shared {
		s.share = token("group-")
	}
	return s
}

var probeSeq atomic.Int64

// waitRoutes waits until events flow both ways between src and agent:
// probes that only the codecs see, published until one arrives.
func waitRoutes(t *testing.T, ctx context.Context, src *sourceSide, agent *agentSide) {
	t.Helper()
	probe := func(what string, publish func(id string) error, seen *probeLog) {
		var ids []string
		eventually(t, waitFor, what, func() (bool, string) {
			for _, id := range ids {
				if seen.has(id) {
					return true, ""
				}
			}
			if len(ids) > 0 && len(ids)%5 != 0 {
				ids = append(ids, "")
				return false, "waiting"
			}
			id := fmt.Sprintf("%s%d", probePrefix, probeSeq.Add(1))
			if err := publish(id); err != nil {
				ids = append(ids, "")
				return false, err.Error()
			}
			ids = append(ids, id)
			return false, "probe " + id + " sent"
		})
	}
	probe("source -> agent route", func(id string) error {
		return src.client.publishSpec(ctx, types.CreateRequestAction, &Widget{UID: id, Cluster: agent.cluster, Source: src.id, Version: 1})
	}, agent.probes)
	probe("agent -> source route", func(id string) error {
		return agent.client.publishStatus(ctx, types.UpdateRequestAction, &Widget{UID: id, Cluster: agent.cluster, Source: src.id, Version: 1, Status: &WidgetStatus{}})
	}, src.probes)
}

func newIDs() (sourceID, cluster string) {
	return token("src-"), token("cluster-")
}

func widget(uid, cluster string, version int64, color string) *Widget {
	return &Widget{UID: uid, Cluster: cluster, Version: version, Spec: WidgetSpec{Color: color, Size: version}}
}

// scenarioLifecycle: specs created, updated and deleted arrive at the agent;
// its statuses come back to the source with a matching statushash.
func scenarioLifecycle(t *testing.T, p pair) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	broker, _, _ := p.broker(t)
	sourceID, cluster := newIDs()
	src := p.newSource(sourceID)
	agent := newAgentSide(token("agent-"), cluster)
	p.startSource(t, ctx, broker, src, cluster)
	p.startAgent(t, ctx, broker, sourceID, agent)
	waitRoutes(t, ctx, src, agent)

	src.create(t, ctx, widget("w1", cluster, 1, "red"), true)
	src.create(t, ctx, widget("w2", cluster, 1, "blue"), true)
	eventually(t, waitFor, "created widgets in sync", func() (bool, string) { return inSync(src, agent) })

	src.update(t, ctx, "w1", true, func(w *Widget) { w.Spec.Color = "green" })
	eventually(t, waitFor, "updated widget in sync", func() (bool, string) {
		ok, state := inSync(src, agent)
		w, _ := agent.store.get("w1")
		return ok && w != nil && w.Version == 2 && w.Spec.Color == "green" && w.Status.ObservedVersion == 2, state
	})

	src.markDeleting(t, ctx, "w2", true)
	eventually(t, waitFor, "deleted widget gone on both sides", func() (bool, string) {
		ok, state := inSync(src, agent)
		_, onAgent := agent.store.get("w2")
		_, onSource := src.store.get("w2")
		return ok && !onAgent && !onSource, state
	})
	recs := agent.wire.since(0)
	var deletes int
	for _, r := range recs {
		if r.UID == "w2" && r.Action == string(types.DeleteRequestAction) && r.Deleting {
			deletes++
		}
	}
	if deletes != 1 {
		t.Fatalf("agent saw %d delete_request events with deletiontimestamp for w2, want 1: %s", deletes, describe(recs))
	}
}

// scenarioSpecResync: an agent that starts with stale versions asks for the
// specs and gets exactly the newer ones, and the deletions as resync
// responses with deletiontimestamp.
func scenarioSpecResync(t *testing.T, p pair) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	broker, _, _ := p.broker(t)
	sourceID, cluster := newIDs()
	src := p.newSource(sourceID)
	// the source's state
	src.create(t, ctx, widget("w1", cluster, 1, "red"), false)   // agent has it
	src.create(t, ctx, widget("w2", cluster, 3, "blue"), false)  // agent has v1
	src.create(t, ctx, widget("w3", cluster, 2, "black"), false) // being deleted
	src.markDeleting(t, ctx, "w3", false)
	src.create(t, ctx, widget("w5", cluster, 1, "white"), false) // new to the agent
	// the restarted agent's state
	agent := newAgentSide(token("agent-"), cluster)
	src.autoResync, agent.autoResync = false, false // the test resyncs by hand
	agent.seed(
		withSource(widget("w1", cluster, 1, "red"), sourceID),
		withSource(widget("w2", cluster, 1, "blue"), sourceID),
		withSource(widget("w3", cluster, 2, "black"), sourceID),
		withSource(widget("w4", cluster, 2, "gray"), sourceID), // the source no longer has it
	)
	p.startSource(t, ctx, broker, src, cluster)
	if p.brokerKeepsSpecs {
		src.republish(ctx, t)
	}
	p.startAgent(t, ctx, broker, sourceID, agent)
	waitRoutes(t, ctx, src, agent)

	mark := agent.wire.len()
	if err := agent.client.resyncSpec(ctx, sourceID); err != nil {
		t.Fatalf("agent spec resync: %v", err)
	}
	want := "resync_response:w2@3 resync_response:w3@2(deleting) resync_response:w4@2(deleting) resync_response:w5@1"
	eventually(t, waitFor, "spec resync responses", func() (bool, string) {
		got := describe(agent.wire.since(mark))
		return got == want, got
	})
	// the statuses of the applied specs reach the source, the deleted
	// widgets go on both sides
	if err := src.client.resyncStatus(ctx, cluster); err != nil {
		t.Fatalf("source status resync: %v", err)
	}
	eventually(t, waitFor, "both sides in sync after the resync", func() (bool, string) {
		ok, state := inSync(src, agent)
		return ok && len(agent.store.list("", "")) == 3, state
	})
	// nothing else came: one more round trip flushes the route
	waitRoutes(t, ctx, src, agent)
	if got := describe(filterAction(agent.wire.since(mark), types.ResyncResponseAction)); got != want {
		t.Fatalf("spec resync responses: got %s, want exactly %s", got, want)
	}
}

// scenarioStatusResync: a source that asks for statuses gets exactly the
// objects whose hashes differ.
func scenarioStatusResync(t *testing.T, p pair) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	broker, _, _ := p.broker(t)
	sourceID, cluster := newIDs()
	src := p.newSource(sourceID)
	agent := newAgentSide(token("agent-"), cluster)
	ws := []*Widget{
		withSource(widget("w1", cluster, 1, "red"), sourceID),
		withSource(widget("w2", cluster, 2, "blue"), sourceID),
		withSource(widget("w3", cluster, 3, "black"), sourceID),
		withSource(widget("w4", cluster, 1, "white"), sourceID),
	}
	src.autoResync, agent.autoResync = false, false // the test resyncs by hand
	agent.seed(ws...)
	agent.seed(withSource(widget("w9", cluster, 1, "pink"), sourceID)) // the source does not list it
	for _, w := range ws {
		w = w.clone()
		switch w.UID {
		case "w1", "w3": // the source holds the agent's status
			w.Status = applied(w)
		case "w2": // an older status
			w.Status = &WidgetStatus{Phase: "Progressing", ObservedVersion: 1}
		case "w4": // no status yet
		}
		src.create(t, ctx, w, false)
	}
	p.startSource(t, ctx, broker, src, cluster)
	p.startAgent(t, ctx, broker, sourceID, agent)
	waitRoutes(t, ctx, src, agent)

	mark := src.wire.len()
	if err := src.client.resyncStatus(ctx, cluster); err != nil {
		t.Fatalf("source status resync: %v", err)
	}
	want := "resync_response:w2@2 resync_response:w4@1"
	eventually(t, waitFor, "status resync responses", func() (bool, string) {
		got := describe(src.wire.since(mark))
		return got == want, got
	})
	for _, uid := range []string{"w1", "w2", "w3", "w4"} {
		s, _ := src.store.get(uid)
		a, _ := agent.store.get(uid)
		sh, _ := ocmStatusHash(s)
		ah, _ := ocmStatusHash(a)
		if sh != ah {
			t.Errorf("%s: source status hash %s, agent %s", uid, sh, ah)
		}
		if (uid == "w2" || uid == "w4") && s.WireStatusHash != ah {
			t.Errorf("%s: statushash on the wire %q, the agent's status hashes to %q", uid, s.WireStatusHash, ah)
		}
	}
	waitRoutes(t, ctx, src, agent)
	if got := describe(filterAction(src.wire.since(mark), types.ResyncResponseAction)); got != want {
		t.Fatalf("status resync responses: got %s, want exactly %s", got, want)
	}
}

// scenarioBrokerRestart: the connection to the broker goes away while both
// sides change; after it comes back the reconnect signal fires, the resync
// runs and both sides agree.
func scenarioBrokerRestart(t *testing.T, p pair) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	broker, cut, restore := p.broker(t)
	if cut == nil {
		t.Fatal("this pair cannot cut its broker")
	}
	sourceID, cluster := newIDs()
	src := p.newSource(sourceID)
	agent := newAgentSide(token("agent-"), cluster)
	p.startSource(t, ctx, broker, src, cluster)
	p.startAgent(t, ctx, broker, sourceID, agent)
	waitRoutes(t, ctx, src, agent)

	src.create(t, ctx, widget("w1", cluster, 1, "red"), true)
	src.create(t, ctx, widget("w2", cluster, 1, "blue"), true)
	src.create(t, ctx, widget("w4", cluster, 1, "gray"), true)
	eventually(t, waitFor, "widgets in sync before the restart", func() (bool, string) { return inSync(src, agent) })
	srcBefore, agentBefore := src.reconnects.Load(), agent.reconnects.Load()

	cut()
	// changes while the broker is away: none of them can be sent
	src.update(t, ctx, "w1", false, func(w *Widget) { w.Spec.Color = "green" })
	src.create(t, ctx, widget("w3", cluster, 1, "yellow"), false)
	src.markDeleting(t, ctx, "w2", false)
	// a status change the source can only learn from a status resync
	agent.store.update("w4", func(w *Widget) { w.Status.Message = "drifted while offline" })
	restore()

	eventually(t, waitFor, "reconnect signals on both sides", func() (bool, string) {
		s, a := src.reconnects.Load(), agent.reconnects.Load()
		return s > srcBefore && a > agentBefore, fmt.Sprintf("source %d agent %d", s, a)
	})
	eventually(t, 2*waitFor, "both sides in sync after the restart", func() (bool, string) {
		ok, state := inSync(src, agent)
		w1, _ := agent.store.get("w1")
		_, w2 := agent.store.get("w2")
		w4, _ := src.store.get("w4")
		return ok && w1 != nil && w1.Version == 2 && !w2 && len(agent.store.list("", "")) == 3 &&
			w4 != nil && w4.Status != nil && w4.Status.Message == "drifted while offline", state
	})
}

func withSource(w *Widget, source string) *Widget {
	w.Source = source
	return w
}

func filterAction(recs []wireRecord, action types.EventAction) []wireRecord {
	var out []wireRecord
	for _, r := range recs {
		if r.Action == string(action) {
			out = append(out, r)
		}
	}
	return out
}

// mosquitto is the machine's broker, directly.
func mosquitto(t *testing.T) (string, func(), func()) {
	needBroker(t, "Mosquitto", mosquittoAddr)
	return mosquittoAddr, nil, nil
}

// mosquittoViaProxy is the machine's broker behind a proxy the test can cut.
func mosquittoViaProxy(t *testing.T) (string, func(), func()) {
	needBroker(t, "Mosquitto", mosquittoAddr)
	p := startProxy(t, mosquittoAddr)
	return p.Addr(), p.Cut, p.Restore
}

func runScenarios(t *testing.T, p pair) {
	t.Run("Lifecycle", func(t *testing.T) { scenarioLifecycle(t, p) })
	t.Run("SpecResync", func(t *testing.T) { scenarioSpecResync(t, p) })
	t.Run("StatusResync", func(t *testing.T) { scenarioStatusResync(t, p) })
	t.Run("BrokerRestart", func(t *testing.T) {
		q := p
		q.broker = mosquittoViaProxy
		scenarioBrokerRestart(t, q)
	})
}

// TestOCMSourceOCMAgentMQTT checks the harness itself: OCM's source with
// OCM's agent over Mosquitto.
func TestOCMSourceOCMAgentMQTT(t *testing.T) {
	runScenarios(t, pair{startSource: startOCMSourceMQTT, startAgent: startOCMAgentMQTT, broker: mosquitto})
}

func TestOCMSourceOurAgentMQTT(t *testing.T) {
	runScenarios(t, pair{startSource: startOCMSourceMQTT, startAgent: startOurAgentMQTT, broker: mosquitto})
}

func TestOurSourceOCMAgentMQTT(t *testing.T) {
	runScenarios(t, pair{startSource: startOurSourceMQTT, startAgent: startOCMAgentMQTT, broker: mosquitto})
}

// TestSharedSubscriptionMQTT: the sources consume the agents' events
// through a shared subscription ($share/<group>/sources/<id>/consumers/+/agentevents).
func TestSharedSubscriptionMQTT(t *testing.T) {
	t.Run("OCMSourceOurAgent", func(t *testing.T) {
		p := pair{startSource: startOCMSourceMQTT, startAgent: startOurAgentMQTT, broker: mosquitto, shared: true}
		t.Run("Lifecycle", func(t *testing.T) { scenarioLifecycle(t, p) })
		t.Run("StatusResync", func(t *testing.T) { scenarioStatusResync(t, p) })
	})
	t.Run("OurSourceOCMAgent", func(t *testing.T) {
		p := pair{startSource: startOurSourceMQTT, startAgent: startOCMAgentMQTT, broker: mosquitto, shared: true}
		t.Run("Lifecycle", func(t *testing.T) { scenarioLifecycle(t, p) })
		t.Run("StatusResync", func(t *testing.T) { scenarioStatusResync(t, p) })
	})
}

func TestOurSourceOurAgentMQTT(t *testing.T) {
	runScenarios(t, pair{startSource: startOurSourceMQTT, startAgent: startOurAgentMQTT, broker: mosquitto})
}

var _ = time.Second
