// Package connector is the public contract between eventbridge and its
// connectors: the sources that take events in and the targets that send
// them out. Every built-in connector (http, mqtt, kafka, ...) is written
// against it, and a Go program can add its own without forking the
// bridge.
//
// # Writing a connector
//
// A connector is a Go package that, in an init function, registers a
// SourceType or a TargetType under a type name. A config file (or an API
// caller) then names that type:
//
//	targets:
//	  audit:
//	    type: myfile          # the name given to RegisterTarget
//	    path: /var/log/audit.jsonl
//
// The registration says how to make an empty typed config (NewConfig) and
// how to build the connector from a decoded one (New):
//
//	func init() {
//		connector.RegisterTarget(connector.TargetType{
//			Name:      "myfile",
//			Doc:       "appends every event to a file, one JSON line each",
//			NewConfig: func() connector.Config { return &Config{} },
//			New: func(name string, cfg connector.Config, deps connector.Deps) (connector.Target, error) {
//				return newTarget(name, cfg.(*Config), deps)
//			},
//		})
//	}
//
// A config type embeds Common (the fields every connector has: type,
// description, labels...) with the tag `yaml:",inline"` (RegisterSource
// and RegisterTarget panic without it), and implements Defaults and
// Validate. The bridge
// decodes the spec (YAML in a config file, JSON from the API) into it by
// its JSON field names, strictly (an unknown field is an error), expands
// references in its strings (${env:NAME} in the config file), calls
// Defaults, then Validate,
// and builds the connector only when Validate found no problem.
//
// A Source runs as a component: Start connects (or mounts an HTTP handler
// on Deps.HTTP) and returns once it runs; it hands the events it receives
// to Deps.Ingest, and acknowledges its producer only when Ingest returned
// nil (the events are then durably stored). A Target is handed one event
// at a time by Send, and reports the outcome: nil, Permanent(err) (the
// event goes to the dead-letter queue), RetryAfter(err, d), or any other
// error (retried with the rule's backoff). Both report their health
// through Health; embedding a component.Tracker provides it. A target does
// not limit its rate or break its circuit itself: the bridge does both for
// every target, around Send, from the rate_limit and circuit_breaker of
// Common.
//
// To build a bridge with the connector compiled in, import the package
// for its init function and call eventbridge.Main (pkg/eventbridge) from
// your own main package. The repository's examples/custom-connector is a
// complete module that does so.
package connector

import (
	"context"
	"log/slog"
	"net/http"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventbridge-dev/eventbridge/pkg/component"
	"github.com/eventbridge-dev/eventbridge/pkg/netguard"
	"github.com/eventbridge-dev/eventbridge/pkg/spec"
)

// Ingester stores events in the bus.
//
// Ingest returns nil only once every event is durably stored (duplicates of
// an already stored (source, id) count as stored), so a source may then
// acknowledge its producer. It blocks until then or until ctx is done; on
// error, none or some of the events may be stored and the producer should
// retry the whole batch (duplicates are dropped by the bus). Safe for
// concurrent use.
type Ingester interface {
	Ingest(ctx context.Context, source string, events []*ce.Event) error
}

// Mounter is the shared HTTP server sources mount their handlers on.
type Mounter interface {
	// Mount serves h at path (an exact path, or a prefix when it ends in
	// "/"). It fails if another handler holds the path. The returned func
	// unmounts it.
	Mount(path string, h http.Handler) (unmount func(), err error)
}

// Deps are what the bridge gives a connector it builds.
type Deps struct {
	Logger *slog.Logger
	// Ingest is where sources put events. Nil for targets.
	Ingest Ingester
	// HTTP is the shared HTTP server. Sources that receive over HTTP mount
	// themselves here unless configured with their own listener.
	HTTP Mounter
	// Guard, when not nil, is applied to every connection the connector
	// makes to an address its spec names (URLs, brokers, token
	// endpoints), and such connections ignore the environment's proxy:
	// use Guard.Dialer or Guard.Transport. The bridge sets it on resources
	// created through the API unless api.allow_private_addresses is set;
	// nil for the operator's own (config file) resources.
	Guard *netguard.Guard
}

// Address is an outgoing address set in a connector's spec.
type Address struct {
	// Field is its path in the spec ("url", "auth.oauth2.token_url",
	// "brokers[1]").
	Field string
	// Value is a URL, host:port or host.
	Value string
}

// Outbound is implemented by configs that name addresses the connector
// connects to. The API checks them (literal addresses only; names are
// checked when dialled, through Deps.Guard) when an API caller sets them.
type Outbound interface {
	OutboundAddresses() []Address
}

// Source is a configured ingress. It runs as a component: Start connects or
// mounts it, Stop stops intake and returns once nothing more will be
// ingested.
type Source interface {
	component.Component
}

// Target is a configured egress.
//
// Send delivers one event and returns its outcome: nil when delivered; an
// error wrapped by Permanent when retrying cannot help; RetryAfter when the
// target asked for a delay; anything else (including ErrNotConnected) is
// retryable. Send blocks until the outcome is known or ctx is done, and is
// safe for concurrent use. A target must not keep the event after Send
// returns.
type Target interface {
	component.Component
	Send(ctx context.Context, e *ce.Event) error
}

// Common are the fields every source and target config has. Connector
// configs embed it with the tag `yaml:",inline"`:
//
//	type Config struct {
//		connector.Common `yaml:",inline"`
//		Path string `json:"path"`
//	}
type Common struct {
	// Type selects the connector ("http", "log", "mqtt", ...).
	Type string `json:"type"`
	// Description is free text for operators.
	Description string `json:"description,omitempty"`
	// Labels are key/value pairs to select resources by.
	Labels map[string]string `json:"labels,omitempty"`
	// Codec (sources) reads messages in a format other than CloudEvents:
	// "choria-lifecycle". Default: CloudEvents.
	Codec string `json:"codec,omitempty"`
	// Optional: when this connector does not run, the bridge reports itself
	// degraded but still ready (/readyz 200).
	Optional bool `json:"optional,omitempty"`
	// Dedup (sources): drop events whose (source, id) the bus already holds
	// inside its dedup window. Default true; turn it off for producers that
	// reuse ids (Choria's alive events).
	Dedup *bool `json:"dedup,omitempty"`
	// StateKey (sources): the key the bridge's current state keeps this
	// source's events under, a template over their attributes
	// ("{clustername}/{resourceid}"). Default: the event's source and
	// subject.
	StateKey string `json:"state_key,omitempty"`
	// RateLimit (targets) bounds the deliveries to the target; the bridge
	// enforces it around Send, for every target kind.
	RateLimit *RateLimit `json:"rate_limit,omitempty"`
	// CircuitBreaker (targets) stops deliveries to a target that keeps
	// failing, for a while; the bridge enforces it around Send.
	CircuitBreaker *CircuitBreaker `json:"circuit_breaker,omitempty"`
}

// Config is a typed connector configuration. Defaults fills unset fields;
// Validate reports every problem under p (paths relative to the resource,
// e.g. p.AddAt("path", "required")).
type Config interface {
	Base() *Common
	Defaults()
	Validate(p spec.Problems)
}

// Base returns the common fields; embedding Common gives every config this
// method.
func (c *Common) Base() *Common { return c }
