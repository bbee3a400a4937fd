// Package component defines the life of every running part of the bridge
// (sources, targets, rule runners, jobs, servers): the Component interface,
// its states, and the Status that health endpoints report.
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

// Report is the health of many components, keyed by name, as served on /readyz.
type Report struct {
	// Ready is true when every required component runs.
	Ready bool `json:"ready"`
	// Degraded is true when an optional component does not run.
	Degraded   bool              `json:"degraded,omitempty"`
	Components map[string]Status `json:"components"`
}

// Registry holds the components whose health the bridge reports.
type Registry struct {
	mu       sync.RWMutex
	comps    map[string]Component
	optional map[string]bool
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{comps: map[string]Component{}, optional: map[string]bool{}}
}

// Add registers c under name ("source/web", "target/sink", "bus").
func (r *Registry) Add(name string, c Component) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.comps[name] = c
	delete(r.optional, name)
}

// AddOptional registers a component whose failure degrades readiness
// without failing it.
func (r *Registry) AddOptional(name string, c Component) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.comps[name] = c
	r.optional[name] = true
}

// Remove forgets name.
func (r *Registry) Remove(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.comps, name)
	delete(r.optional, name)
}

// Report returns every component's status; Ready is true when all
// required ones run.
func (r *Registry) Report() Report {
	r.mu.RLock()
	defer r.mu.RUnlock()
	rep := Report{Ready: true, Components: make(map[string]Status, len(r.comps))}
	for name, c := range r.comps {
		s := c.Health()
		if r.optional[name] {
			if s.Detail == nil {
				s.Detail = map[string]any{}
			}
			s.Detail["optional"] = true
		}
		rep.Components[name] = s
		if s.State != Running {
			if r.optional[name] {
				rep.Degraded = true
			} else {
				rep.Ready = false
			}
		}
	}
	return rep
}
