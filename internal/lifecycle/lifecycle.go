// Package lifecycle publishes the bridge's events about itself onto its
// own bus, so that rules can route them anywhere: startup, shutdown,
// alive (every interval), provisioned (first start on an empty data
// directory), dead_lettered (an event landed in the DLQ),
// component_failed, and connector_disconnected / connector_reconnected (a
// broker connector lost or regained its connection). Their data follows Choria's lifecycle format
// (protocol, id, identity, component, timestamp, version), so Choria's
// tools and `eventbridge tally` read them.
package lifecycle

import (
	"context"
	"log/slog"
	"sync"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/google/uuid"

	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

// SourceName is the source resource name lifecycle events are ingested
// under (their bus subject is events.eventbridge.<type>; rules can select
// them with `sources: [eventbridge]`).
const SourceName = "eventbridge"

// TypePrefix starts the type of every lifecycle event.
const TypePrefix = "io.eventbridge.lifecycle.v1."

// Event types.
const (
	Startup         = "startup"
	Shutdown        = "shutdown"
	Alive           = "alive"
	Provisioned     = "provisioned"
	DeadLettered    = "dead_lettered"
	ComponentFailed = "component_failed"
	// ConnectorDisconnected: a broker connector lost a working connection
	// for longer than disconnect_grace; ConnectorReconnected: it has one
	// again (after every loss, however short).
	ConnectorDisconnected = "connector_disconnected"
	ConnectorReconnected  = "connector_reconnected"
)

// Component names the emitter in the data, as Choria's "component".
const Component = "eventbridge"

// Config is the `lifecycle` section of the config file.
type Config struct {
	// Disabled turns lifecycle events off.
	Disabled bool `json:"disabled,omitempty"`
	// AliveInterval is how often an alive event is published. Default 5m.
	AliveInterval spec.Duration `json:"alive_interval,omitempty"`
	// DisconnectGrace is how long a broker connector's lost connection
	// stays lost before connector_disconnected is published (a shorter
	// outage gives connector_reconnected only). Default 10s.
	DisconnectGrace *spec.Duration `json:"disconnect_grace,omitempty"`
}

// DefaultDisconnectGrace is the default of disconnect_grace.
const DefaultDisconnectGrace = 10 * time.Second

// Grace returns disconnect_grace, or its default.
func (c *Config) Grace() time.Duration {
	if c.DisconnectGrace == nil {
		return DefaultDisconnectGrace
	}
	return c.DisconnectGrace.D()
}

// Defaults fills unset fields.
func (c *Config) Defaults() {
	if c.AliveInterval == 0 {
		c.AliveInterval = spec.Duration(5 * time.Minute)
	}
}

// Validate reports problems under p.
func (c *Config) Validate(p spec.Problems) {
	if c.AliveInterval.D() < time.Second {
		p.AddAt("alive_interval", "must be at least 1s")
	}
	if c.DisconnectGrace != nil && c.DisconnectGrace.D() < 0 {
		p.AddAt("disconnect_grace", "must not be negative")
	}
}

// Publisher emits lifecycle events. Safe for concurrent use; a nil
// Publisher does nothing.
type Publisher struct {
	ingest   connector.Ingester
	instance string
	version  string
	log      *slog.Logger
	interval time.Duration

	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// New returns a publisher; nil when lifecycle events are disabled.
func New(cfg Config, ingest connector.Ingester, instance, version string, log *slog.Logger) *Publisher {
	if cfg.Disabled {
		return nil
	}
	return &Publisher{ingest: ingest, instance: instance, version: version, log: log, interval: cfg.AliveInterval.D()}
}

// Event builds a lifecycle event of type typ; extra fields join the data.
func (p *Publisher) Event(typ string, extra map[string]any) *ce.Event {
	now := time.Now().UTC()
	id := uuid.NewString()
	data := map[string]any{
		"protocol": TypePrefix + typ, "id": id, "identity": p.instance,
		"component": Component, "timestamp": now.Unix(),
	}
	if typ == Startup || typ == Alive {
		data["version"] = p.version
	}
	for k, v := range extra {
		data[k] = v
	}
	e := ce.New()
	e.SetID(id)
	e.SetType(TypePrefix + typ)
	e.SetSource("/eventbridge/" + p.instance)
	e.SetSubject(p.instance)
	e.SetTime(now)
	_ = e.SetData(ce.ApplicationJSON, data)
	return &e
}

// Emit publishes one event (a failure is logged, not returned: lifecycle
// events must never stop the bridge).
func (p *Publisher) Emit(ctx context.Context, typ string, extra map[string]any) {
	if p == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := p.ingest.Ingest(ctx, SourceName, []*ce.Event{p.Event(typ, extra)}); err != nil {
		p.log.Warn("cannot publish a lifecycle event", "type", typ, "err", err)
	}
}

// Start emits startup (and provisioned on a first start) and begins the
// alive events.
func (p *Publisher) Start(ctx context.Context, provisioned bool) {
	if p == nil {
		return
	}
	if provisioned {
		p.Emit(ctx, Provisioned, nil)
	}
	p.Emit(ctx, Startup, nil)
	p.stop, p.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(p.done)
		t := time.NewTicker(p.interval)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				p.Emit(context.Background(), Alive, nil)
			}
		}
	}()
}

// Stop ends the alive events and emits shutdown.
func (p *Publisher) Stop(ctx context.Context) {
	if p == nil || p.stop == nil {
		return
	}
	p.once.Do(func() {
		close(p.stop)
		<-p.done
		p.Emit(ctx, Shutdown, nil)
	})
}

// DeadLettered reports an event that landed in the DLQ. Lifecycle
// dead_lettered events are not reported again (a rule that routes them to
// a failing target would loop).
func (p *Publisher) DeadLettered(rule, target, reason string, e *ce.Event, attempts int, cause error) {
	if p == nil || e.Type() == TypePrefix+DeadLettered {
		return
	}
	extra := map[string]any{
		"rule": rule, "target": target, "reason": reason, "attempts": attempts,
		"event_id": e.ID(), "event_source": e.Source(), "event_type": e.Type(),
	}
	if cause != nil {
		extra["error"] = cause.Error()
	}
	p.Emit(context.Background(), DeadLettered, extra)
}

// ComponentFailed reports a component that failed (and will be restarted).
func (p *Publisher) ComponentFailed(name string, err error) {
	if p == nil {
		return
	}
	extra := map[string]any{"failed_component": name}
	if err != nil {
		extra["error"] = err.Error()
	}
	p.Emit(context.Background(), ComponentFailed, extra)
}

// ConnectorChanged reports a broker connector that lost its connection for
// longer than the grace period (connector_disconnected) or has it again
// (connector_reconnected), with the connector's resource name and type, the
// error that broke the connection, and how long it was down.
func (p *Publisher) ConnectorChanged(name, typ string, up bool, cause error, down time.Duration) {
	if p == nil {
		return
	}
	typ2 := ConnectorDisconnected
	if up {
		typ2 = ConnectorReconnected
	}
	extra := map[string]any{"connector": name, "connector_type": typ, "down_seconds": down.Seconds()}
	if cause != nil {
		extra["error"] = cause.Error()
	}
	p.Emit(context.Background(), typ2, extra)
}
