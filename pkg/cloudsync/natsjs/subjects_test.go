package natsjs

import (
	"errors"
	"testing"
)

func TestEscapeToken(t *testing.T) {
	for in, want := range map[string]string{
		"cluster1":      "cluster1",
		"hub_a-1":       "hub_a-1",
		"a.b":           "a%2Eb",
		"*":             "%2A",
		">":             "%3E",
		"x y":           "x%20y",
		"50%":           "50%25",
		"café":          "caf%C3%A9",
		"sources/hub/x": "sources%2Fhub%2Fx",
	} {
		if got := EscapeToken(in); got != want {
			t.Errorf("EscapeToken(%q) = %q, want %q", in, got, want)
		}
	}
	// One-to-one: an escape in the input is escaped again.
	if EscapeToken("a.b") == EscapeToken("a%2Eb") {
		t.Error("two ids share a token")
	}
}

func TestSubjects(t *testing.T) {
	src, err := NewSource("hub.1", Options{Prefix: "p"})
	if err != nil {
		t.Fatal(err)
	}
	agent, err := NewAgent("agent-1", "c.1", Options{Prefix: "p"})
	if err != nil {
		t.Fatal(err)
	}
	pinned, err := NewAgent("agent-2", "c2", Options{Prefix: "p", SourceID: "hub.1"})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		tr   *Transport
		typ  string
		cl   string
		orig string
		want string
	}{
		{"spec to a cluster", src, specCreate, "c.1", "", "p.sources.hub%2E1.clusters.c%2E1.sourceevents"},
		{"status resync to a cluster", src, statusResync, "c.1", "", "p.sources.hub%2E1.clusters.c%2E1.sourceevents"},
		{"status resync to all clusters", src, statusResync, "", "", "p.sources.hub%2E1.sourcebroadcast"},
		{"status to its source", agent, statusUpdate, "c.1", "hub.1", "p.sources.hub%2E1.clusters.c%2E1.agentevents"},
		{"spec resync to one source", agent, specResync, "c.1", "hub.1", "p.sources.hub%2E1.clusters.c%2E1.agentevents"},
		{"spec resync to all sources", agent, specResync, "c.1", "", "p.clusters.c%2E1.agentbroadcast"},
		{"status without originalsource, pinned source", pinned, statusUpdate, "c2", "", "p.sources.hub%2E1.clusters.c2.agentevents"},
	}
	for _, c := range cases {
		got, err := c.tr.SubjectFor(newEvent(c.typ, "x", c.cl, c.orig))
		if err != nil || got != c.want {
			t.Errorf("%s: got %q, %v; want %q", c.name, got, err, c.want)
		}
	}
	if _, err := src.SubjectFor(newEvent(specCreate, "x", "", "")); !errors.Is(err, ErrNoTarget) {
		t.Errorf("spec without cluster: err %v, want ErrNoTarget", err)
	}
	if _, err := agent.SubjectFor(newEvent(statusUpdate, "x", "c.1", "")); !errors.Is(err, ErrNoTarget) {
		t.Errorf("status without source: err %v, want ErrNoTarget", err)
	}
	want := map[*Transport][]string{
		src:    {"p.sources.hub%2E1.clusters.*.agentevents", "p.clusters.*.agentbroadcast"},
		agent:  {"p.sources.*.clusters.c%2E1.sourceevents", "p.sources.*.sourcebroadcast"},
		pinned: {"p.sources.hub%2E1.clusters.c2.sourceevents", "p.sources.hub%2E1.sourcebroadcast"},
	}
	for tr, w := range want {
		got := tr.Subjects()
		if len(got) != len(w) || got[0] != w[0] || got[1] != w[1] {
			t.Errorf("%s subscribes %q, want %q", tr.role(), got, w)
		}
	}
}

func TestOptionsRefused(t *testing.T) {
	if _, err := NewSource("", Options{}); !errors.Is(err, ErrEmptyToken) {
		t.Errorf("empty source id: %v", err)
	}
	if _, err := NewAgent("a", "", Options{}); !errors.Is(err, ErrEmptyToken) {
		t.Errorf("empty cluster: %v", err)
	}
	for _, p := range []string{"a..b", "a.*", "a.>", "a b", "."} {
		if _, err := NewSource("s", Options{Prefix: p}); err == nil {
			t.Errorf("prefix %q accepted", p)
		}
	}
	if _, err := NewSource("s", Options{JetStream: &JetStreamOptions{Durable: "a.b"}}); err == nil {
		t.Error("durable name with '.' accepted")
	}
}
