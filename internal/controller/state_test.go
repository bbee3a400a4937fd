package controller

import (
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/component"
)

func TestWithComponentsShowsFailedComponents(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	t1 := t0.Add(time.Minute)
	running := component.Status{State: component.Running, Since: t0}
	failed := component.Status{State: component.Failed, Since: t1, LastError: "listen tcp 127.0.0.1:1: bind: address already in use",
		Detail: map[string]any{"restarts": 3}}
	reconnecting := component.Status{State: component.Starting, Since: t1, LastError: "cannot connect to broker"}
	starting := component.Status{State: component.Starting, Since: t1}
	base := Status{State: StateRunning, Since: t0}
	for _, tc := range []struct {
		name      string
		st        Status
		comps     map[string]component.Status
		wantState string
		wantError string
	}{
		{"all running", base, map[string]component.Status{"source/a": running}, StateRunning, ""},
		{"no components", base, nil, StateRunning, ""},
		{"first start", base, map[string]component.Status{"source/a": starting}, StateRunning, ""},
		{"its component failed", base, map[string]component.Status{"source/a": failed}, StateFailed,
			"source/a failed: listen tcp 127.0.0.1:1: bind: address already in use (restarts: 3)"},
		{"one route of two failed", base, map[string]component.Status{"route/r/x": running, "route/r/y": failed}, StateDegraded,
			"route/r/y failed: listen tcp 127.0.0.1:1: bind: address already in use (restarts: 3)"},
		{"reconnecting", base, map[string]component.Status{"target/t": reconnecting}, StateDegraded,
			"target/t starting: cannot connect to broker"},
		{"paused stays paused", Status{State: StatePaused}, map[string]component.Status{"route/r/y": failed}, StatePaused, ""},
		{"a bad spec keeps its error", Status{State: StateFailed, Error: "spec: bad"}, map[string]component.Status{"source/a": failed}, StateFailed, "spec: bad"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := WithComponents(tc.st, tc.comps)
			if got.State != tc.wantState || got.Error != tc.wantError {
				t.Errorf("state %q error %q, want %q %q", got.State, got.Error, tc.wantState, tc.wantError)
			}
		})
	}
	if got := WithComponents(base, map[string]component.Status{"source/a": failed}); !got.Since.Equal(t1) {
		t.Errorf("since %v, want when the component failed (%v)", got.Since, t1)
	}
}
