package amqp_test

import (
	"fmt"
	"testing"

	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
)

// TestGuardedConnection: an amqp target created through the API
// (Deps.Guard set) asks the guard about the address it dials, after
// resolving the name, and never connects when refused.
func TestGuardedConnection(t *testing.T) {
	port, accepted := connectortest.CountingListener(t)
	guard, asked := connectortest.RefusingGuard()
	deps := connectortest.Deps(nil)
	deps.Guard = guard
	connectortest.StartTargetWith(t, "refused", fmt.Sprintf(`{"type":"amqp","url":"amqp://localhost:%d","exchange":"events"}`, port), deps)
	connectortest.WaitAsked(t, asked, port)
	if n := accepted.Load(); n != 0 {
		t.Fatalf("%d connections reached the loopback listener", n)
	}
}
