package controller

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/component"
)

// StateDegraded is the state of a resource some of whose components have
// failed (and are being restarted) or lost their connection, while others
// run.
const StateDegraded = "degraded"

// WithComponents returns st as the resource's components show it: a
// resource the controller runs is not "running" while its components are
// not. When every component has failed it is failed; when some have, or
// one is starting again after an error (restarting, reconnecting), it is
// degraded. Error then names each such component with its last error and
// restarts. Other states (failed specs, paused rules) are kept as they are.
func WithComponents(st Status, comps map[string]component.Status) Status {
	if st.State != StateRunning || len(comps) == 0 {
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
	st.State = StateDegraded
	if failed == len(comps) {
		st.State = StateFailed
	}
	st.Error = strings.Join(reasons, "; ")
	if since.After(st.Since) {
		st.Since = since
	}
	return st
}
