package controller

import (
	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/controller/runstatus"
)

// StateDegraded is the state of a resource some of whose components have
// failed (and are being restarted) or lost their connection, while others
// run.
const StateDegraded = runstatus.Degraded

// WithComponents returns st as the resource's components show it; see
// runstatus.WithComponents.
func WithComponents(st Status, comps map[string]component.Status) Status {
	return runstatus.WithComponents(st, comps)
}
