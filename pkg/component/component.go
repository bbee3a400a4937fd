// Package component defines the life of every running part of an
// eventbridge bridge (sources, targets, rule runners, jobs, servers): the
// Component interface, its states, and the Status that health endpoints
// (/readyz) report. Connectors written outside this repository implement
// Component through pkg/connector's Source and Target; embedding a Tracker
// gives them Health.
package component

import (
	"context"
	"sync"
	"time"
)

// State is where a component is in its life.
type State int

// The states, in the order a component passes through them.
const (
	New State = iota
	Starting
	Running
	Stopping
	Terminated
	Failed
)

var stateNames = [...]string{"new", "starting", "running", "stopping", "terminated", "failed"}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "unknown"
}

// MarshalText implements encoding.TextMarshaler.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Status is a component's health as reported by /readyz.
type Status struct {
	State     State     `json:"state"`
	Since     time.Time `json:"since"`
	LastError string    `json:"last_error,omitempty"`
	// Detail is component-specific (connection state, queue length...).
	Detail map[string]any `json:"detail,omitempty"`
}

// Component is a running part of the bridge.
//
// Start brings it up and returns when it runs (or failed to start); work it
// does afterwards is bound to the component's own life, not to ctx, which
// only bounds the start itself. Stop finishes in-flight work within ctx's
// deadline and releases everything; it is safe to call on a component that
// failed to start. Health is safe for concurrent use at any time.
type Component interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	Health() Status
}

// Tracker holds a component's Status; embed it and call Set as the state
// changes. Safe for concurrent use.
type Tracker struct {
	mu     sync.Mutex
	status Status
}

// Set records a new state and, when err is non-nil, the last error.
func (t *Tracker) Set(s State, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.status.State != s || t.status.Since.IsZero() {
		t.status.Since = time.Now().UTC()
	}
	t.status.State = s
	if err != nil {
		t.status.LastError = err.Error()
	}
}

// SetDetail records one detail value.
func (t *Tracker) SetDetail(key string, v any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.status.Detail == nil {
		t.status.Detail = map[string]any{}
	}
	t.status.Detail[key] = v
}

// Health returns a copy of the status.
func (t *Tracker) Health() Status {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.status
	if s.Since.IsZero() {
		s.Since = time.Now().UTC()
	}
	if t.status.Detail != nil {
		s.Detail = make(map[string]any, len(t.status.Detail))
		for k, v := range t.status.Detail {
			s.Detail[k] = v
		}
	}
	return s
}
