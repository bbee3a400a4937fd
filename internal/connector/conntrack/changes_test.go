package conntrack

import (
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/eventbridge-dev/eventbridge/internal/telemetry"
	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

// Changes on its own, as mqtt and nats use it: a first connection is
// nothing, a loss outlasting the grace is disconnected once however often
// it is reported, a return is reconnected once, and Forget (stopping)
// silences a pending loss.
func TestChanges(t *testing.T) {
	m := telemetry.NewMetrics()
	w := testkit.WatchConns(m, 20*time.Millisecond)
	c := NewChanges(m, "n", "nats")
	next := func() telemetry.ConnChange { t.Helper(); return w.Next(t) }
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
	w.None(t, 200*time.Millisecond)
	var nilChanges *Changes
	nilChanges.Lost(nil)
	nilChanges.Regained()
	nilChanges.Forget()
}
