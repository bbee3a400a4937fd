package mqtt

import (
	"slices"
	"strings"
	"testing"

	cloudevents "github.com/cloudevents/sdk-go/v2"

	"github.com/eventbridge-dev/eventbridge/pkg/cloudsync"
)

var ocmTopics = Topics{
	SourceEvents:    "sources/maestro/consumers/+/sourceevents",
	AgentEvents:     "$share/statussubscribers/sources/maestro/consumers/+/agentevents",
	SourceBroadcast: "sources/+/sourcebroadcast",
	AgentBroadcast:  "clusters/+/agentbroadcast",
}

func TestValidateTopics(t *testing.T) {
	cases := []struct {
		name    string
		topics  Topics
		wantErr string // substring; "" = valid
	}{
		{name: "the OCM example", topics: ocmTopics},
		{name: "no broadcast topics", topics: Topics{SourceEvents: "sources/hub1/clusters/+/sourceevents", AgentEvents: "sources/hub1/clusters/+/agentevents"}},
		{name: "wildcard source and explicit cluster", topics: Topics{SourceEvents: "sources/+/clusters/c-1/sourceevents", AgentEvents: "sources/+/clusters/c-1/agentevents"}},
		{name: "shared source events", topics: Topics{SourceEvents: "$share/g-1/sources/hub1/clusters/+/sourceevents", AgentEvents: "sources/hub1/clusters/+/agentevents"}},
		{name: "source events ending in agentevents", topics: Topics{SourceEvents: "sources/hub1/clusters/+/agentevents", AgentEvents: "sources/hub1/clusters/+/agentevents"}, wantErr: "sourceEvents"},
		{name: "agent events ending in sourceevents", topics: Topics{SourceEvents: "sources/hub1/clusters/+/sourceevents", AgentEvents: "sources/hub1/clusters/+/sourceevents"}, wantErr: "agentEvents"},
		{name: "upper case", topics: Topics{SourceEvents: "Sources/hub1/clusters/+/sourceevents", AgentEvents: "sources/hub1/clusters/+/agentevents"}, wantErr: "sourceEvents"},
		{name: "digits in the kind", topics: Topics{SourceEvents: "sources1/hub1/clusters/+/sourceevents", AgentEvents: "sources/hub1/clusters/+/agentevents"}, wantErr: "sourceEvents"},
		{name: "multi-level wildcard", topics: Topics{SourceEvents: "sources/hub1/clusters/#/sourceevents", AgentEvents: "sources/hub1/clusters/+/agentevents"}, wantErr: "sourceEvents"},
		{name: "too few levels", topics: Topics{SourceEvents: "sources/hub1/sourceevents", AgentEvents: "sources/hub1/clusters/+/agentevents"}, wantErr: "sourceEvents"},
		{name: "underscore in an id", topics: Topics{SourceEvents: "sources/hub_1/clusters/+/sourceevents", AgentEvents: "sources/hub1/clusters/+/agentevents"}, wantErr: "sourceEvents"},
		{name: "bad share group", topics: Topics{SourceEvents: "sources/hub1/clusters/+/sourceevents", AgentEvents: "$share/G/sources/hub1/clusters/+/agentevents"}, wantErr: "agentEvents"},
		{name: "missing agent events", topics: Topics{SourceEvents: "sources/hub1/clusters/+/sourceevents"}, wantErr: "agentEvents"},
		{name: "bad source broadcast", topics: Topics{SourceEvents: "sources/hub1/clusters/+/sourceevents", AgentEvents: "sources/hub1/clusters/+/agentevents", SourceBroadcast: "sources/+/agentbroadcast"}, wantErr: "sourceBroadcast"},
		{name: "bad agent broadcast", topics: Topics{SourceEvents: "sources/hub1/clusters/+/sourceevents", AgentEvents: "sources/hub1/clusters/+/agentevents", AgentBroadcast: "clusters/+/+/agentbroadcast"}, wantErr: "agentBroadcast"},
		{name: "shared broadcast", topics: Topics{SourceEvents: "sources/hub1/clusters/+/sourceevents", AgentEvents: "sources/hub1/clusters/+/agentevents", SourceBroadcast: "$share/g/sources/+/sourcebroadcast"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.topics.Validate()
			if c.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("Validate = %v, want an error naming %s", err, c.wantErr)
			}
		})
	}
	var nilTopics *Topics
	if nilTopics.Validate() == nil {
		t.Error("nil topics are valid")
	}
}

func TestSourceFromEventsTopic(t *testing.T) {
	cases := map[string]string{
		"sources/maestro/consumers/+/agentevents":                          "maestro",
		"$share/statussubscribers/sources/maestro/consumers/+/agentevents": "maestro",
		"sources/+/clusters/+/sourceevents":                                "+",
		"sources/hub1/clusters/c1/sourceevents":                            "hub1",
	}
	for topic, want := range cases {
		got, err := SourceFromEventsTopic(topic)
		if err != nil || got != want {
			t.Errorf("SourceFromEventsTopic(%q) = %q, %v; want %q", topic, got, err, want)
		}
	}
	if _, err := SourceFromEventsTopic("sources/+/sourcebroadcast"); err == nil {
		t.Error("a broadcast topic has a source token")
	}
}

func evt(typ string, exts map[string]string) *cloudevents.Event {
	e := cloudevents.NewEvent()
	e.SetID("1")
	e.SetSource("x")
	e.SetType(typ)
	for k, v := range exts {
		e.SetExtension(k, v)
	}
	return &e
}

const mb = cloudsync.ManifestBundleDataType

func TestPublishTopics(t *testing.T) {
	noBroadcast := Topics{SourceEvents: "sources/hub1/clusters/+/sourceevents", AgentEvents: "sources/hub1/clusters/+/agentevents"}
	wildSource := Topics{SourceEvents: "sources/+/clusters/+/sourceevents", AgentEvents: "sources/+/clusters/+/agentevents"}
	cases := []struct {
		name    string
		role    cloudsync.Role
		topics  Topics
		evt     *cloudevents.Event
		want    string
		wantErr bool
	}{
		{name: "source spec to its cluster", role: cloudsync.RoleSource, topics: ocmTopics,
			evt: evt(mb+".spec.create_request", map[string]string{"clustername": "cluster1", "originalsource": ""}), want: "sources/maestro/consumers/cluster1/sourceevents"},
		{name: "source status resync to one cluster", role: cloudsync.RoleSource, topics: ocmTopics,
			evt: evt(mb+".status.resync_request", map[string]string{"clustername": "cluster1", "originalsource": ""}), want: "sources/maestro/consumers/cluster1/sourceevents"},
		{name: "source status resync to all clusters goes to the broadcast with the source id", role: cloudsync.RoleSource, topics: ocmTopics,
			evt: evt(mb+".status.resync_request", map[string]string{"clustername": "", "originalsource": ""}), want: "sources/maestro/sourcebroadcast"},
		{name: "source resync to all without a broadcast topic", role: cloudsync.RoleSource, topics: noBroadcast,
			evt: evt(mb+".status.resync_request", map[string]string{"clustername": "", "originalsource": ""}), wantErr: true},
		{name: "source: the first + is replaced (OCM)", role: cloudsync.RoleSource, topics: wildSource,
			evt: evt(mb+".spec.update_request", map[string]string{"clustername": "c1", "originalsource": ""}), want: "sources/c1/clusters/+/sourceevents"},
		{name: "source event without clustername", role: cloudsync.RoleSource, topics: ocmTopics,
			evt: evt(mb+".spec.update_request", map[string]string{"originalsource": ""}), wantErr: true},
		{name: "source: unparseable type", role: cloudsync.RoleSource, topics: ocmTopics,
			evt: evt("io.example.thing", map[string]string{"clustername": "c1"}), wantErr: true},
		{name: "agent status: $share dropped, cluster then source token", role: cloudsync.RoleAgent, topics: ocmTopics,
			evt: evt(mb+".status.update_request", map[string]string{"clustername": "cluster1", "originalsource": "maestro"}), want: "sources/maestro/consumers/cluster1/agentevents"},
		{name: "agent spec resync to one source", role: cloudsync.RoleAgent, topics: ocmTopics,
			evt: evt(mb+".spec.resync_request", map[string]string{"clustername": "cluster1", "originalsource": "maestro"}), want: "sources/maestro/consumers/cluster1/agentevents"},
		{name: "agent spec resync to all sources goes to the agent broadcast", role: cloudsync.RoleAgent, topics: ocmTopics,
			evt: evt(mb+".spec.resync_request", map[string]string{"clustername": "cluster1", "originalsource": ""}), want: "clusters/cluster1/agentbroadcast"},
		{name: "agent resync to all without a broadcast falls back to agent events", role: cloudsync.RoleAgent, topics: noBroadcast,
			evt: evt(mb+".spec.resync_request", map[string]string{"clustername": "cluster1", "originalsource": ""}), want: "sources/hub1/clusters/cluster1/agentevents"},
		{name: "agent with a wildcard source token uses originalsource", role: cloudsync.RoleAgent, topics: wildSource,
			evt: evt(mb+".status.update_request", map[string]string{"clustername": "cluster1", "originalsource": "hub2"}), want: "sources/hub2/clusters/cluster1/agentevents"},
		{name: "agent event without originalsource", role: cloudsync.RoleAgent, topics: ocmTopics,
			evt: evt(mb+".status.update_request", map[string]string{"clustername": "cluster1"}), wantErr: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got string
			var err error
			if c.role == cloudsync.RoleSource {
				got, err = SourcePublishTopic(c.topics, "maestro", c.evt)
			} else {
				got, err = AgentPublishTopic(c.topics, "cluster1", c.evt)
			}
			if c.wantErr {
				if err == nil {
					t.Fatalf("topic %q, want an error", got)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("topic %q, %v; want %q", got, err, c.want)
			}
		})
	}
}

func TestSubscriptions(t *testing.T) {
	subs, err := SourceSubscriptions(ocmTopics, "maestro")
	if err != nil || !slices.Equal(subs, []string{"$share/statussubscribers/sources/maestro/consumers/+/agentevents", "clusters/+/agentbroadcast"}) {
		t.Errorf("source subscriptions %v, %v", subs, err)
	}
	if _, err := SourceSubscriptions(ocmTopics, "other"); err == nil {
		t.Error("a source subscribed to another source's agent events")
	}
	if subs, err := SourceSubscriptions(Topics{SourceEvents: "sources/+/clusters/+/sourceevents", AgentEvents: "sources/+/clusters/+/agentevents"}, "any"); err != nil || !slices.Equal(subs, []string{"sources/+/clusters/+/agentevents"}) {
		t.Errorf("wildcard source subscriptions %v, %v", subs, err)
	}
	if got := AgentSubscriptions(ocmTopics, "cluster1"); !slices.Equal(got, []string{"sources/maestro/consumers/cluster1/sourceevents", "sources/+/sourcebroadcast"}) {
		t.Errorf("agent subscriptions %v", got)
	}
	// the last + is the cluster's
	if got := AgentSubscriptions(Topics{SourceEvents: "sources/+/clusters/+/sourceevents"}, "c1"); !slices.Equal(got, []string{"sources/+/clusters/c1/sourceevents"}) {
		t.Errorf("agent subscriptions %v", got)
	}
}
