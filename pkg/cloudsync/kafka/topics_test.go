package kafka

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

func TestEscapeToken(t *testing.T) {
	for in, want := range map[string]string{
		"cluster1":  "cluster1",
		"a-b":       "a-b",
		"a.b":       "a_2Eb",
		"a_b":       "a_5Fb",
		"hub/x":     "hub_2Fx",
		"café":      "caf_C3_A9",
		"_2E":       "_5F2E",
		"UPPER9-ok": "UPPER9-ok",
	} {
		if got := EscapeToken(in); got != want {
			t.Errorf("EscapeToken(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTopics(t *testing.T) {
	src := must(NewSource("hub.1", Options{Prefix: "p"}))
	agent := must(NewAgent("agent-1", "c_1", Options{Prefix: "p"}))
	pinned := must(NewAgent("agent-2", "c2", Options{Prefix: "p", SourceID: "hub.1"}))
	cases := []struct {
		name          string
		tr            *Transport
		typ, cl, orig string
		want          string
	}{
		{"spec to a cluster", src, specCreate, "c_1", "", "p.sources.hub_2E1.clusters.c_5F1.sourceevents"},
		{"status resync to a cluster", src, statusResync, "c_1", "", "p.sources.hub_2E1.clusters.c_5F1.sourceevents"},
		{"status resync to all clusters", src, statusResync, "", "", "p.sources.hub_2E1.sourcebroadcast"},
		{"status to its source", agent, statusUpdate, "c_1", "hub.1", "p.sources.hub_2E1.clusters.c_5F1.agentevents"},
		{"spec resync to one source", agent, specResync, "c_1", "hub.1", "p.sources.hub_2E1.clusters.c_5F1.agentevents"},
		{"spec resync to all sources", agent, specResync, "c_1", "", "p.clusters.c_5F1.agentbroadcast"},
		{"status, pinned source", pinned, statusUpdate, "c2", "", "p.sources.hub_2E1.clusters.c2.agentevents"},
	}
	for _, c := range cases {
		got, err := c.tr.TopicFor(newEvent(c.typ, "x", c.cl, c.orig))
		if err != nil || got != c.want {
			t.Errorf("%s: got %q, %v; want %q", c.name, got, err, c.want)
		}
	}
	if _, err := src.TopicFor(newEvent(specCreate, "x", "", "")); !errors.Is(err, ErrNoTarget) {
		t.Errorf("spec without cluster: %v", err)
	}
	if _, err := agent.TopicFor(newEvent(statusUpdate, "x", "c_1", "")); !errors.Is(err, ErrNoTarget) {
		t.Errorf("status without source: %v", err)
	}
	if _, err := src.TopicFor(newEvent(specCreate, "x", strings.Repeat("x", 240), "")); !errors.Is(err, ErrNoTarget) {
		t.Errorf("topic over 249 characters: %v", err)
	}

	// The subscription patterns match the topics the other side
	// produces to, and nothing of another cluster or source.
	match := func(tr *Transport, topic string) bool {
		for _, p := range tr.Patterns() {
			if regexp.MustCompile(p).MatchString(topic) {
				return true
			}
		}
		return false
	}
	for _, c := range []struct {
		tr    *Transport
		topic string
		want  bool
	}{
		{src, "p.sources.hub_2E1.clusters.c_5F1.agentevents", true},
		{src, "p.sources.hub_2E1.clusters.other.agentevents", true},
		{src, "p.clusters.c_5F1.agentbroadcast", true},
		{src, "p.sources.hub2.clusters.c_5F1.agentevents", false},
		{src, "p.sources.hub_2E1.clusters.c_5F1.sourceevents", false},
		{src, "px.sources.hub_2E1.clusters.c.agentevents", false},
		{agent, "p.sources.hub_2E1.clusters.c_5F1.sourceevents", true},
		{agent, "p.sources.any.clusters.c_5F1.sourceevents", true},
		{agent, "p.sources.any.sourcebroadcast", true},
		{agent, "p.sources.any.clusters.c2.sourceevents", false},
		{agent, "p.sources.a.b.clusters.c_5F1.sourceevents", false},
		{pinned, "p.sources.hub_2E1.clusters.c2.sourceevents", true},
		{pinned, "p.sources.other.clusters.c2.sourceevents", false},
		{pinned, "p.sources.other.sourcebroadcast", false},
	} {
		if got := match(c.tr, c.topic); got != c.want {
			t.Errorf("%s consumes %s: %v, want %v", c.tr.id, c.topic, got, c.want)
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
	for _, p := range []string{"a..b", "a_b", "a/b", ".", "a b"} {
		if _, err := NewSource("s", Options{Prefix: p}); err == nil {
			t.Errorf("prefix %q accepted", p)
		}
	}
	if g := must(NewSource("hub.1", Options{})).opts.Group; g != "cloudsync.source.hub_2E1" {
		t.Errorf("default source group %q", g)
	}
}
