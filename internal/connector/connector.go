// Package connector defines sources and targets, the registry they join by
// type name, and the delivery outcomes targets report.
//
// The contract is public, in pkg/connector, so that a Go program can
// build its own bridge with its own connectors (see
// docs/connectors/custom.md); the names here are aliases of it, except
// Deps: built-in connectors get more of the bridge (metrics, the job
// scheduler) than the public Deps offers.
//
// A protocol's source and target live together in one package under
// internal/connector/<protocol>/, register themselves in init(), and are
// compiled in by a blank import in internal/connector/all. Connectors know
// nothing of the router or the bus: a source hands events to an Ingester,
// a target is handed one event at a time by the dispatcher.
package connector

import (
	"log/slog"

	"github.com/eventbridge-dev/eventbridge/internal/jobs/jobapi"
	"github.com/eventbridge-dev/eventbridge/internal/netguard"
	"github.com/eventbridge-dev/eventbridge/internal/telemetry"
	pub "github.com/eventbridge-dev/eventbridge/pkg/connector"
)

// Ingester stores events in the bus; see pkg/connector.
type Ingester = pub.Ingester

// Mounter is the shared HTTP server sources mount their handlers on.
type Mounter = pub.Mounter

// Deps are what the bridge gives a connector it builds.
type Deps struct {
	Logger *slog.Logger
	// Ingest is where sources put events. Nil for targets.
	Ingest Ingester
	// HTTP is the shared HTTP server. Sources that receive over HTTP mount
	// themselves here unless configured with their own listener.
	HTTP Mounter
	// Metrics are the bridge's metrics; connectors count what they receive,
	// reject and send.
	Metrics *telemetry.Metrics
	// Jobs schedules sources that poll or run on a timer (poll, cron),
	// and keeps their state between runs. Nil for targets.
	Jobs jobapi.Scheduler
	// Guard, when not nil, is applied to every connection the connector
	// makes to an address its spec names (URLs, brokers, token and
	// introspection endpoints), and such connections ignore the
	// environment's proxy. The bridge sets it on resources created
	// through the API unless api.allow_private_addresses is set; nil for
	// the operator's own (config file) resources.
	Guard *netguard.Guard
}

// Log returns d.Logger (or, without one, a logger that discards) with
// args, such as "source", name.
func (d Deps) Log(args ...any) *slog.Logger {
	if d.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return d.Logger.With(args...)
}

// Public returns the part of d that the public contract offers, for
// connectors registered through pkg/connector.
func (d Deps) Public() pub.Deps {
	return pub.Deps{Logger: d.Logger, Ingest: d.Ingest, HTTP: d.HTTP, Guard: d.Guard}
}

// Address is an outgoing address set in a connector's spec.
type Address = pub.Address

// Outbound is implemented by configs that name addresses the connector
// connects to; see pkg/connector.
type Outbound = pub.Outbound

// Source is a configured ingress; see pkg/connector.
type Source = pub.Source

// Target is a configured egress; see pkg/connector for what Send returns.
type Target = pub.Target

// Common are the fields every source and target config has. Connector
// configs embed it with `yaml:",inline"`.
type Common = pub.Common

// Config is a typed connector configuration. Defaults fills unset fields;
// Validate reports every problem under p (paths relative to the resource).
type Config = pub.Config
