package testkit

import (
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/telemetry"
)

// ConnChanges records the connector connection changes reported to a
// metrics' ConnWatch (connector_disconnected / connector_reconnected).
type ConnChanges struct{ c chan telemetry.ConnChange }

// WatchConns sets m.ConnWatch, with grace, to record into the returned
// ConnChanges. Call it before the connectors are made.
func WatchConns(m *telemetry.Metrics, grace time.Duration) *ConnChanges {
	w := &ConnChanges{c: make(chan telemetry.ConnChange, 64)}
	m.ConnWatch = &telemetry.ConnWatch{Grace: grace, Notify: func(ch telemetry.ConnChange) { w.c <- ch }}
	return w
}

// Next waits (30s at most) for the next change.
func (w *ConnChanges) Next(t testing.TB) telemetry.ConnChange {
	t.Helper()
	select {
	case ch := <-w.c:
		return ch
	case <-time.After(30 * time.Second):
		t.Fatal("no connection change reported")
	}
	return telemetry.ConnChange{}
}

// None fails if a change is reported within d.
func (w *ConnChanges) None(t testing.TB, d time.Duration) {
	t.Helper()
	select {
	case ch := <-w.c:
		t.Fatalf("unexpected connection change %+v", ch)
	case <-time.After(d):
	}
}
