// Package telemetry holds the bridge's Prometheus metrics, and later its
// tracing and run-time log levels.
package telemetry

import (
	"github.com/eventbridge-dev/eventbridge/internal/version"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Delivery outcomes, the values of the "outcome" label.
const (
	OutcomeDelivered    = "delivered"     // the target accepted the event
	OutcomeRetry        = "retry"         // a retryable failure; queued in RETRY
	OutcomeDeadLettered = "dead_lettered" // failed for good; written to DLQ
	OutcomeOverflow     = "overflow"      // the rule's queue was full; queued in RETRY without an attempt
)

// Metrics are the bridge's Prometheus metrics. Each bridge has its own
// registry, so tests can run many bridges in one process.
type Metrics struct {
	Registry *prometheus.Registry

	Received        *prometheus.CounterVec   // source
	Rejected        *prometheus.CounterVec   // source, reason
	Stored          *prometheus.CounterVec   // source
	Duplicates      *prometheus.CounterVec   // source
	Matched         *prometheus.CounterVec   // rule
	Deliveries      *prometheus.CounterVec   // rule, target, outcome
	Attempt         *prometheus.HistogramVec // rule, target: duration of one Send
	Latency         *prometheus.HistogramVec // rule, target: event time (or ingest) to delivery
	Pending         *prometheus.GaugeVec     // rule, target: waiting in memory and in RETRY
	DLQ             *prometheus.GaugeVec     // rule, target: messages in the dead-letter stream
	TransformErrors *prometheus.CounterVec   // rule
	RuleDuplicates  *prometheus.CounterVec   // rule, target: dropped by the rule's dedup
	// UnroutedLost counts events the archive dropped (its age or size
	// limits) before the router of an embedded bus had settled them,
	// found when it reads the archive back after a crash.
	UnroutedLost prometheus.Counter
	// Unsettled is the number of stored events the router was handed from
	// ingest and has not settled with every route (embedded bus, no
	// listen): the backlog that WORK's depth shows elsewhere.
	Unsettled prometheus.Gauge

	// Connector metrics, by connector name and type.
	ConnMessages  *prometheus.CounterVec // connector, type, direction (in|out), outcome (ok|error|invalid)
	ConnResets    *prometheus.CounterVec // connector, type: connections lost
	ConnConnected *prometheus.GaugeVec   // connector, type: 1 while connected
	ConnLinks     *prometheus.GaugeVec   // connector, type, kind (sender|receiver): open links
	// ConnReconnects counts connections re-established after a loss.
	ConnReconnects *prometheus.CounterVec // connector, type
	// ConnWatch, when set before connectors start, is told when one loses
	// or regains its connection (lifecycle events); nil: nobody is.
	ConnWatch *ConnWatch

	// Bus metrics, read from JetStream every few seconds.
	StreamMessages      *prometheus.GaugeVec // stream
	StreamBytes         *prometheus.GaugeVec // stream
	ConsumerPending     *prometheus.GaugeVec // consumer: not yet delivered to the bridge
	ConsumerAckPending  *prometheus.GaugeVec // consumer: delivered, not yet acknowledged
	ConsumerRedelivered *prometheus.GaugeVec // consumer: handed out more than once

	// Subscriptions counts the Subscriptions API's subscriptions by state
	// (running, failed, paused), set on every reconcile.
	Subscriptions *prometheus.GaugeVec // state
	// SubscriptionsByProtocol counts them by protocol (HTTP, AMQP).
	SubscriptionsByProtocol *prometheus.GaugeVec // protocol
	// Resources counts the store's resources by kind and state, set on
	// every reconcile.
	Resources *prometheus.GaugeVec // kind, state
}

// NewMetrics is NewMetricsFor without an instance label (for tests).
func NewMetrics() *Metrics { return NewMetricsFor("") }

// NewMetricsFor registers every metric in a new registry, with Go runtime
// and process collectors and eventbridge_build_info. instance, when not
// empty, labels every eventbridge_* series.
func NewMetricsFor(instance string) *Metrics {
	if instance == "" {
		return NewMetricsWith(nil)
	}
	return NewMetricsWith(prometheus.Labels{"instance": instance})
}

// NewMetricsWith is NewMetricsFor with constant labels of every
// eventbridge_* series (instance and replica, say); empty values are
// left out.
func NewMetricsWith(labels prometheus.Labels) *Metrics {
	r := prometheus.NewRegistry()
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	var reg prometheus.Registerer = r
	constant := prometheus.Labels{}
	for k, v := range labels {
		if v != "" {
			constant[k] = v
		}
	}
	if len(constant) > 0 {
		reg = prometheus.WrapRegistererWith(constant, r)
	}
	f := func(c prometheus.Collector) { reg.MustRegister(c) }
	info := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "eventbridge_build_info", Help: "Version of the running bridge (always 1)."}, []string{"version", "build"})
	info.WithLabelValues(version.Version, version.Build).Set(1)
	f(info)
	m := &Metrics{Registry: r}
	m.Received = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "eventbridge_events_received_total", Help: "Events received by a source, before validation."}, []string{"source"})
	m.Rejected = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "eventbridge_events_rejected_total", Help: "Events a source refused (invalid, too large, unsupported media type, bus unavailable)."}, []string{"source", "reason"})
	m.Stored = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "eventbridge_events_stored_total", Help: "Events written to the bus (first copies only)."}, []string{"source"})
	m.Duplicates = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "eventbridge_events_duplicate_total", Help: "Events whose (source, id) the bus already held inside the dedup window."}, []string{"source"})
	m.Matched = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "eventbridge_rule_matched_total", Help: "Events a rule matched."}, []string{"rule"})
	m.Deliveries = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "eventbridge_deliveries_total", Help: "Delivery attempts by outcome (delivered, retry, dead_lettered, overflow)."}, []string{"rule", "target", "outcome"})
	m.Attempt = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "eventbridge_delivery_attempt_seconds", Help: "Duration of one delivery attempt.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}, []string{"rule", "target"})
	m.Latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "eventbridge_delivery_latency_seconds", Help: "Time from ingest to successful delivery.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 20)}, []string{"rule", "target"})
	m.Pending = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "eventbridge_rule_pending", Help: "Deliveries waiting for a rule's target: in memory and in the RETRY stream."}, []string{"rule", "target"})
	m.DLQ = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "eventbridge_dlq_messages", Help: "Messages in the dead-letter stream."}, []string{"rule", "target"})
	m.TransformErrors = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "eventbridge_transform_errors_total", Help: "Transform failures (the delivery goes to DLQ)."}, []string{"rule"})
	m.RuleDuplicates = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "eventbridge_rule_duplicates_total", Help: "Events a rule's dedup dropped: their key was delivered to the target inside the window."}, []string{"rule", "target"})
	f(m.RuleDuplicates)
	m.UnroutedLost = prometheus.NewCounter(prometheus.CounterOpts{Name: "eventbridge_router_unrouted_lost_total", Help: "Events the archive dropped (age or size limits) before the router had settled them, found on the read-back after a crash (embedded bus)."})
	f(m.UnroutedLost)
	m.Unsettled = prometheus.NewGauge(prometheus.GaugeOpts{Name: "eventbridge_router_unsettled", Help: "Stored events handed to the router from ingest and not yet settled by every route (embedded bus that listens on no port; elsewhere WORK's depth shows this backlog)."})
	f(m.Unsettled)
	m.ConnMessages = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "eventbridge_connector_messages_total", Help: "Protocol messages a connector received (in) or sent (out), by outcome (ok, error, invalid)."}, []string{"connector", "type", "direction", "outcome"})
	m.ConnResets = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "eventbridge_connector_connection_resets_total", Help: "Connections a connector lost (and then re-established)."}, []string{"connector", "type"})
	m.ConnConnected = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "eventbridge_connector_connected", Help: "1 while a connector is connected to its broker."}, []string{"connector", "type"})
	m.ConnLinks = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "eventbridge_connector_open_links", Help: "Open senders and receivers (links, subscriptions, consumers) of a connector."}, []string{"connector", "type", "kind"})
	m.ConnReconnects = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "eventbridge_connector_reconnects_total", Help: "Connections a connector re-established after losing a working one."}, []string{"connector", "type"})
	f(m.ConnReconnects)
	m.StreamMessages = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "eventbridge_stream_messages", Help: "Messages in a bus stream (EVENTS, WORK, RETRY, DLQ)."}, []string{"stream"})
	m.StreamBytes = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "eventbridge_stream_bytes", Help: "Bytes in a bus stream."}, []string{"stream"})
	m.ConsumerPending = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "eventbridge_consumer_pending", Help: "Messages a bus consumer has not yet handed to the bridge (router, or a rule's retries)."}, []string{"consumer"})
	m.ConsumerAckPending = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "eventbridge_consumer_ack_pending", Help: "Messages handed to the bridge and not yet acknowledged."}, []string{"consumer"})
	m.ConsumerRedelivered = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "eventbridge_consumer_redelivered", Help: "Messages a consumer handed out more than once (after a crash or a timeout)."}, []string{"consumer"})
	m.Subscriptions = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "eventbridge_subscriptions", Help: "Subscriptions of the Subscriptions API, by state (running, failed, paused)."}, []string{"state"})
	f(m.Subscriptions)
	m.SubscriptionsByProtocol = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "eventbridge_subscriptions_by_protocol", Help: "Subscriptions of the Subscriptions API, by protocol (HTTP, AMQP)."}, []string{"protocol"})
	f(m.SubscriptionsByProtocol)
	m.Resources = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "eventbridge_resources", Help: "Resources in the store, by kind (source, target, rule, subscription, oran-subscription, oran-publisher) and state."}, []string{"kind", "state"})
	f(m.Resources)
	for _, c := range []prometheus.Collector{m.Received, m.Rejected, m.Stored, m.Duplicates, m.Matched, m.Deliveries, m.Attempt, m.Latency, m.Pending, m.DLQ, m.TransformErrors,
		m.ConnMessages, m.ConnResets, m.ConnConnected, m.ConnLinks,
		m.StreamMessages, m.StreamBytes, m.ConsumerPending, m.ConsumerAckPending, m.ConsumerRedelivered} {
		f(c)
	}
	return m
}
