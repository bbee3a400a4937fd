package amqp1_test

import (
	"testing"

	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
)

// TestGuardedConnection: an amqp1 target created through the API
// (Deps.Guard set) asks the guard about the address it dials, after
// resolving the name, and never connects when refused.
func TestGuardedConnection(t *testing.T) {
	connectortest.GuardedTarget(t, `{"type":"amqp1","url":"amqp://localhost:%d","address":"events"}`)
}
