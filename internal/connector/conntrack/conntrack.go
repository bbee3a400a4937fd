// Package conntrack keeps the connection state of a broker connector: the
// component state (Starting while disconnected, Running while connected),
// the "connected" health detail, and the connector metrics (connected,
// resets, messages, links). It also gives the backoff the reconnect loops
// share. Every broker connector uses it the same way, so health and
// metrics read alike across protocols.
package conntrack

import (
	"context"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/telemetry"
)

// Directions and outcomes of the ConnMessages metric.
const (
	In      = "in"
	Out     = "out"
	OK      = "ok"
	Error   = "error"
	Invalid = "invalid"
)

// Conn is the connection state of one connector. Safe for concurrent use.
type Conn struct {
	tr        *component.Tracker
	connected prometheus.Gauge
	resets    prometheus.Counter
	messages  *prometheus.CounterVec
	links     *prometheus.GaugeVec

	// Connection changes, reported once each (see telemetry.ConnWatch).
	changes *Changes

	mu     sync.Mutex
	up     bool
	closed bool
}

// New tracks the connection of connector name of type typ in tr. m may be
// nil (metrics are then kept in a throw-away registry).
func New(tr *component.Tracker, m *telemetry.Metrics, name, typ string) *Conn {
	if m == nil {
		m = telemetry.NewMetrics()
	}
	l := prometheus.Labels{"connector": name, "type": typ}
	c := &Conn{
		tr:        tr,
		connected: m.ConnConnected.With(l),
		resets:    m.ConnResets.With(l),
		messages:  m.ConnMessages.MustCurryWith(l),
		links:     m.ConnLinks.MustCurryWith(l),
		changes:   NewChanges(m, name, typ),
	}
	return c
}

// Starting records that the connector is starting: not connected yet.
func (c *Conn) Starting() { c.restart(false, component.Starting) }

// restart puts the connection in state s, not connected, and drops a loss
// not yet reported; closed ignores later Up and Down calls.
func (c *Conn) restart(closed bool, s component.State) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed, c.up = closed, false
	c.changes.Forget()
	c.tr.Set(s, nil)
	c.tr.SetDetail("connected", false)
	c.connected.Set(0)
}

// Up records a working connection: state Running, connected. After the
// loss of a working connection it is a reconnection: counted, and told to
// the metrics' ConnWatch once.
func (c *Conn) Up() {
	c.mu.Lock()
	if c.closed || c.up {
		c.mu.Unlock()
		return
	}
	c.up = true
	c.tr.Set(component.Running, nil)
	c.tr.SetDetail("connected", true)
	c.connected.Set(1)
	c.mu.Unlock()
	c.changes.Regained()
}

// Down records a lost (or failed) connection and its cause: state
// Starting with err as the last error. Losing a working connection counts
// as a reset.
func (c *Conn) Down(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	if c.up {
		c.resets.Inc()
		c.changes.Lost(err)
	}
	c.up = false
	c.tr.Set(component.Starting, err)
	c.tr.SetDetail("connected", false)
	c.connected.Set(0)
}

// IsUp reports whether the connection works.
func (c *Conn) IsUp() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.up
}

// WaitUp waits up to d (or until ctx is done) for the connection to work,
// and reports whether it does. Start uses it to return connected when the
// broker is there, without failing when it is not.
func (c *Conn) WaitUp(ctx context.Context, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for !c.IsUp() {
		if time.Now().After(deadline) || !Sleep(ctx, 10*time.Millisecond) {
			return false
		}
	}
	return true
}

// Stopping records the start of Stop; later Up and Down calls from
// goroutines still winding down no longer change the state.
func (c *Conn) Stopping() { c.restart(true, component.Stopping) }

// Stopped records the end of Stop.
func (c *Conn) Stopped(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tr.Set(component.Terminated, err)
}

// Message counts n protocol messages in direction dir with outcome.
func (c *Conn) Message(dir, outcome string, n int) {
	c.messages.WithLabelValues(dir, outcome).Add(float64(n))
}

// Link adds delta open links of kind ("sender" or "receiver").
func (c *Conn) Link(kind string, delta int) {
	c.links.WithLabelValues(kind).Add(float64(delta))
}

// Backoff is the one wait between retries of the connectors (reconnect
// loops, redelivery of a failed batch): exponential backoff from Min,
// doubling, up to Max, with jitter so that many connectors do not retry in
// step. The zero value waits 100ms to 10s. Not safe for concurrent use;
// each loop has its own.
//
// It is github.com/cenkalti/backoff/v5 set up so that every wait lies in
// [80%, 100%] of the step: never longer than Max, and the first wait after
// Reset never longer than Min (callers rely on both bounds).
type Backoff struct {
	Min, Max time.Duration
	eb       *backoff.ExponentialBackOff
}

// Next returns the next wait.
func (b *Backoff) Next() time.Duration {
	if b.eb == nil {
		lo, hi := b.Min, b.Max
		if lo <= 0 {
			lo = 100 * time.Millisecond
		}
		if hi <= 0 {
			hi = 10 * time.Second
		}
		hi = max(hi, lo)
		// The library waits step*(1±factor); centred on 90% of our step
		// with a factor of 1/9, that is 80% to 100% of it.
		b.eb = &backoff.ExponentialBackOff{
			InitialInterval:     lo * 9 / 10,
			MaxInterval:         hi * 9 / 10,
			Multiplier:          2,
			RandomizationFactor: 1.0 / 9,
		}
		b.eb.Reset()
	}
	return b.eb.NextBackOff()
}

// Reset starts the next Next from Min again.
func (b *Backoff) Reset() {
	if b.eb != nil {
		b.eb.Reset()
	}
}

// Sleep waits for d or until ctx is done, and reports whether d passed.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// Probe is the one health loop of the connectors whose client library
// reconnects by itself (kafka, redis, postgres): it runs check (bounded
// by 5s) every while the connection works, and with backoff bo while it
// does not, and records each result with Up or Down, until ctx is done.
// check's error is the cause Down records; wrap it with the protocol name.
func (c *Conn) Probe(ctx context.Context, every time.Duration, bo Backoff, check func(context.Context) error) {
	for {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := check(pctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		wait := every
		if err != nil {
			c.Down(err)
			wait = bo.Next()
		} else {
			c.Up()
			bo.Reset()
		}
		if !Sleep(ctx, wait) {
			return
		}
	}
}

// Series are the metrics of one source or target that reports its
// connection state itself rather than through a Conn (mqtt, nats): what
// a source receives and rejects, the messages by outcome, and the state
// of its one link.
type Series struct {
	Received prometheus.Counter     // sources only
	Rejected *prometheus.CounterVec // sources only; by reason
	messages *prometheus.CounterVec // by outcome
	resets   prometheus.Counter
	conn     prometheus.Gauge
	link     prometheus.Gauge
}

// NewSeries returns the series of connector name of type typ whose link
// is kind: "receiver" (a source) or "sender" (a target).
func NewSeries(m *telemetry.Metrics, name, typ, kind string) Series {
	dir := In
	if kind == "sender" {
		dir = Out
	}
	s := Series{
		messages: m.ConnMessages.MustCurryWith(prometheus.Labels{"connector": name, "type": typ, "direction": dir}),
		resets:   m.ConnResets.WithLabelValues(name, typ),
		conn:     m.ConnConnected.WithLabelValues(name, typ),
		link:     m.ConnLinks.WithLabelValues(name, typ, kind),
	}
	if kind == "receiver" {
		s.Received = m.Received.WithLabelValues(name)
		s.Rejected = m.Rejected.MustCurryWith(prometheus.Labels{"source": name})
	}
	return s
}

// Msgs is the counter of messages with outcome (OK, Error, Invalid).
func (s Series) Msgs(outcome string) prometheus.Counter { return s.messages.WithLabelValues(outcome) }

// Up records the connection and its link up.
func (s Series) Up() { s.conn.Set(1); s.link.Set(1) }

// Down records the connection and its link down.
func (s Series) Down() { s.conn.Set(0); s.link.Set(0) }

// LinkDown records the link down while the connection may be up.
func (s Series) LinkDown() { s.link.Set(0) }

// Lost counts a working connection lost (a reset).
func (s Series) Lost() { s.resets.Inc() }
