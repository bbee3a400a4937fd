// Package component defines the life of every running part of the bridge
// (sources, targets, rule runners, jobs, servers): the Component interface,
// its states, and the Status that health endpoints report.
//
// The contract itself (Component, State, Status, Tracker) is public, in
// pkg/component, so that connectors built outside this module can
// implement it; the names below are aliases of it.
package component

import (
	"sync"

	pub "github.com/eventbridge-dev/eventbridge/pkg/component"
)

// State is where a component is in its life.
type State = pub.State

// The states, in the order a component passes through them.
const (
	New        = pub.New
	Starting   = pub.Starting
	Running    = pub.Running
	Stopping   = pub.Stopping
	Terminated = pub.Terminated
	Failed     = pub.Failed
)

// Status is a component's health as reported by /readyz.
type Status = pub.Status

// Component is a running part of the bridge; see pkg/component.
type Component = pub.Component

// Tracker holds a component's Status; embed it and call Set as the state
// changes. Safe for concurrent use.
type Tracker = pub.Tracker

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
