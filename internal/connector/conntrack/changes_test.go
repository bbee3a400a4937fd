package conntrack

import (
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/eventbridge-dev/eventbridge/internal/telemetry"
)

// Changes on its own, as mqtt and nats use it: a first connection is
// nothing, a loss outlasting the grace is disconnected once however often
// it is reported, a return is reconnected once, and Forget (stopping)
// silences a pending loss.
func TestChanges(t *testing.T) {
	m := telemetry.NewMetrics()
	got := make(chan telemetry.ConnChange, 16)
	m.ConnWatch = &telemetry.ConnWatch{Grace: 20 * time.Millisecond, Notify: func(ch telemetry.ConnChange) { got <- ch }}
	c := NewChanges(m, "n", "nats")
	next := func() telemetry.ConnChange {
		t.Helper()
		select {
		case ch := <-got:
			return ch
		case <-time.After(30 * time.Second):
			t.Fatal("no change reported")
		}
		return telemetry.ConnChange{}
	}
	c.Regained() // the first connection
	c.Lost(errors.New("eof"))
	c.Lost(errors.New("refused")) // the same loss
	if ch := next(); ch.Up || ch.Connector != "n" || ch.Type != "nats" || ch.Err.Error() != "eof" {
		t.Fatalf("disconnected: %+v", ch)
	}
	c.Regained()
	c.Regained()
	if ch := next(); !ch.Up || ch.Err.Error() != "eof" {
		t.Fatalf("reconnected: %+v", ch)
	}
	if n := testutil.ToFloat64(m.ConnReconnects.WithLabelValues("n", "nats")); n != 1 {
		t.Fatalf("reconnects %v", n)
	}
	c.Lost(errors.New("gone"))
	c.Forget()
	select {
	case ch := <-got:
		t.Fatalf("unexpected change %+v", ch)
	case <-time.After(200 * time.Millisecond):
	}
	var nilChanges *Changes
	nilChanges.Lost(nil)
	nilChanges.Regained()
	nilChanges.Forget()
}
