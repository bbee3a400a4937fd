package postgres_test

import (
	"testing"

	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
)

// TestGuardedConnection: a postgres target created through the API
// (Deps.Guard set) asks the guard about the address it dials, after
// resolving the name, and never connects when refused.
func TestGuardedConnection(t *testing.T) {
	connectortest.GuardedTarget(t, `{"type":"postgres","url":"postgres://u@localhost:%d/db","table":"events"}`)
}
