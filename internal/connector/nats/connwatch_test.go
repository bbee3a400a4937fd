package nats

import (
	"fmt"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
	"github.com/eventbridge-dev/eventbridge/internal/telemetry"
	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

// A nats target and source whose server goes away for longer than the
// grace and comes back report connector_disconnected once and
// connector_reconnected once each (the client reconnects by itself; the
// changes come from its callbacks), and stopping reports nothing.
func TestConnectorChangesAcrossAServerRestart(t *testing.T) {
	srv := startServer(t)
	deps := connectortest.Deps(nil)
	w := testkit.WatchConns(deps.Metrics, 50*time.Millisecond)
	tg := connectortest.StartTargetWith(t, "out", fmt.Sprintf(`{"type":"nats","url":%q,"subject":"x","reconnect_wait":"100ms"}`, srv.url()), deps)
	src := connectortest.StartSourceWith(t, "in", fmt.Sprintf(`{"type":"nats","url":%q,"subjects":["y.>"],"reconnect_wait":"100ms"}`, srv.url()), deps)
	for _, c := range []interface{ Health() component.Status }{tg, src} {
		connectortest.Eventually(t, 30*time.Second, func() bool { return c.Health().State == component.Running }, "not running")
	}

	next := func() telemetry.ConnChange { t.Helper(); return w.Next(t) }
	srv.shutdown()
	down := map[string]telemetry.ConnChange{}
	for len(down) < 2 {
		ch := next()
		if ch.Up {
			t.Fatalf("reconnected before the server is back: %+v", ch)
		}
		if _, dup := down[ch.Connector]; dup {
			t.Fatalf("disconnected twice for %s", ch.Connector)
		}
		if ch.Type != "nats" || ch.Err == nil || ch.Down < 50*time.Millisecond {
			t.Fatalf("disconnected: %+v", ch)
		}
		down[ch.Connector] = ch
	}
	srv.start(t)
	up := map[string]bool{}
	for len(up) < 2 {
		ch := next()
		if !ch.Up || up[ch.Connector] {
			t.Fatalf("want one reconnected per connector, got %+v after %v", ch, up)
		}
		up[ch.Connector] = true
	}
	if _, ok := down["out"]; !ok || !up["in"] {
		t.Fatalf("changes for %v / %v, want out and in", down, up)
	}
	w.None(t, 300*time.Millisecond)
}
