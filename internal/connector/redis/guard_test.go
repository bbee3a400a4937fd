package redis_test

import (
	"testing"

	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
)

// TestGuardedConnection: a redis target created through the API
// (Deps.Guard set) asks the guard about the address it dials, after
// resolving the name, and never connects when refused.
func TestGuardedConnection(t *testing.T) {
	connectortest.GuardedTarget(t, `{"type":"redis","url":"redis://localhost:%d/0","stream":"x"}`)
}
