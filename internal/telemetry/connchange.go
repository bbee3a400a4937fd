package telemetry

import "time"

// ConnChange is a change of a broker connector's connection, as package
// conntrack reports it: once per change, not once per retry.
type ConnChange struct {
	// Connector and Type name the connector (its resource name and type).
	Connector, Type string
	// Up is true when the connection works again after a loss
	// (reconnected), false when a working connection has been lost for
	// longer than the grace period (disconnected).
	Up bool
	// Err is what broke the connection.
	Err error
	// Down is how long the connection was (Up) or has been (not Up) down.
	Down time.Duration
}

// ConnWatch is told of connector connection changes (Metrics.ConnWatch).
type ConnWatch struct {
	// Grace is how long a lost connection stays lost before it is
	// reported as disconnected; a shorter outage is reported only as a
	// reconnection. Zero reports at once.
	Grace time.Duration
	// Notify is called outside any lock of the connector, in order.
	Notify func(ConnChange)
}
