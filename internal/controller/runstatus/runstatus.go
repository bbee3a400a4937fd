// Package runstatus is what the controller reports of a resource it runs:
// a leaf carved out of internal/controller, so that readers of the status
// (the API) do not depend on the controller's machinery
// (docs/architecture.md, "Layers").
package runstatus

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

// State of a resource, as shown by the API.
const (
	Running = "running"
	Failed  = "failed"  // its spec is invalid or a dependency is missing
	Paused  = "paused"  // a rule whose events wait on disk
	Started = "started" // running under supervision; see its component health
	// Degraded: some of its components have failed (and are being
	// restarted) or lost their connection, while others run.
	Degraded = "degraded"
)

// Status is what the controller knows of one resource.
type Status struct {
	State    string         `json:"state"`
	Since    time.Time      `json:"since"`
	Error    string         `json:"error,omitempty"`
	Problems []spec.Problem `json:"problems,omitempty"`
	// Revision is the store revision the controller last applied.
	Revision uint64 `json:"revision"`
}

// WithComponents returns st as the resource's components show it: a
// resource the controller runs is not "running" while its components are
// not. When every component has failed it is failed; when some have, or
// one is starting again after an error (restarting, reconnecting), it is
// degraded. Error then names each such component with its last error and
// restarts. Other states (failed specs, paused rules) are kept as they are.
func WithComponents(st Status, comps map[string]component.Status) Status {
	if st.State != Running || len(comps) == 0 {
		return st
	}
	var failed, troubled int
	var reasons []string
	var since time.Time
	for _, name := range slices.Sorted(maps.Keys(comps)) {
		cs := comps[name]
		switch {
		case cs.State == component.Failed:
			failed++
		case cs.State != component.Running && cs.LastError != "":
		default:
			continue
		}
		troubled++
		reason := name + " " + cs.State.String()
		if cs.LastError != "" {
			reason += ": " + cs.LastError
		}
		if n, ok := cs.Detail["restarts"]; ok {
			reason += fmt.Sprintf(" (restarts: %v)", n)
		}
		reasons = append(reasons, reason)
		if since.IsZero() || cs.Since.Before(since) {
			since = cs.Since
		}
	}
	if troubled == 0 {
		return st
	}
	st.State = Degraded
	if failed == len(comps) {
		st.State = Failed
	}
	st.Error = strings.Join(reasons, "; ")
	if since.After(st.Since) {
		st.Since = since
	}
	return st
}
