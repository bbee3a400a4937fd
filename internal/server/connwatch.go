package server

import (
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/telemetry"
)

// connChanged is told by every broker connector (through package
// conntrack) when it loses a working connection for longer than the grace
// period, and when it has one again: one log line and one lifecycle event
// each (counted by eventbridge_connector_connection_resets_total and
// eventbridge_connector_reconnects_total).
func (b *Bridge) connChanged(ch telemetry.ConnChange) {
	log := b.logs.Logger("connector")
	args := []any{"connector", ch.Connector, "type", ch.Type, "down_for", ch.Down.Round(time.Millisecond).String()}
	if ch.Err != nil {
		args = append(args, "err", ch.Err.Error())
	}
	if ch.Up {
		log.Info("connector reconnected", args...)
	} else {
		log.Warn("connector disconnected", args...)
	}
	b.lifecycle.ConnectorChanged(ch.Connector, ch.Type, ch.Up, ch.Err, ch.Down)
}
