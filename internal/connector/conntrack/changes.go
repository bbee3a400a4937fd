package conntrack

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eventbridge-dev/eventbridge/internal/telemetry"
)

// Changes reports the loss and the return of a connector's working
// connection to the metrics' ConnWatch, once per change and not once per
// retry: a loss that outlasts the watch's grace period as disconnected, and
// every return after a loss as reconnected (counted in
// eventbridge_connector_reconnects_total). Conn uses it; connectors whose
// client library reconnects by itself (mqtt, nats) call it from their
// connection callbacks. Safe for concurrent use; a nil *Changes reports
// nothing.
type Changes struct {
	name, typ  string
	reconnects prometheus.Counter
	watch      *telemetry.ConnWatch

	nmu     sync.Mutex // orders notifications; taken under mu, held while notifying
	mu      sync.Mutex
	lostAt  time.Time // when a working connection was lost; zero while up or never up
	lostErr error
	epoch   int         // counts losses, so that a stale grace timer does nothing
	grace   *time.Timer // reports the loss as disconnected when it lasts
}

// NewChanges reports the changes of connector name of type typ. m may be
// nil: then nothing is reported.
func NewChanges(m *telemetry.Metrics, name, typ string) *Changes {
	c := &Changes{name: name, typ: typ}
	if m != nil {
		c.watch = m.ConnWatch
		if m.ConnReconnects != nil {
			c.reconnects = m.ConnReconnects.With(prometheus.Labels{"connector": name, "type": typ})
		}
	}
	return c
}

// notifyUnlock reports ch to the watch. It is called with mu held and
// returns with mu released and the notification sent, so that
// notifications go out in the order of the changes.
func (c *Changes) notifyUnlock(ch telemetry.ConnChange) {
	if c.watch == nil || c.watch.Notify == nil {
		c.mu.Unlock()
		return
	}
	c.nmu.Lock()
	c.mu.Unlock()
	defer c.nmu.Unlock()
	ch.Connector, ch.Type = c.name, c.typ
	c.watch.Notify(ch)
}

// Lost records the loss of a working connection, and arms the grace timer
// that reports it as disconnected if it lasts. A second Lost before
// Regained is the same loss.
func (c *Changes) Lost(err error) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.lostAt.IsZero() {
		return
	}
	c.lostAt, c.lostErr = time.Now(), err
	c.epoch++
	if c.watch == nil || c.watch.Notify == nil {
		return
	}
	epoch := c.epoch
	c.grace = time.AfterFunc(c.watch.Grace, func() {
		c.mu.Lock()
		if c.epoch != epoch || c.lostAt.IsZero() {
			c.mu.Unlock()
			return
		}
		c.notifyUnlock(telemetry.ConnChange{Up: false, Err: c.lostErr, Down: time.Since(c.lostAt)})
	})
}

// Regained records a working connection. After a loss it is a
// reconnection: counted and reported; otherwise (the first connection) it
// is nothing.
func (c *Changes) Regained() {
	if c == nil {
		return
	}
	c.mu.Lock()
	if c.lostAt.IsZero() {
		c.mu.Unlock()
		return
	}
	ch := telemetry.ConnChange{Up: true, Err: c.lostErr, Down: time.Since(c.lostAt)}
	c.forgetLocked()
	if c.reconnects != nil {
		c.reconnects.Inc()
	}
	c.notifyUnlock(ch)
}

// Forget drops a loss not yet reported: stopping is no disconnection.
func (c *Changes) Forget() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.forgetLocked()
}

func (c *Changes) forgetLocked() {
	if c.grace != nil {
		c.grace.Stop()
		c.grace = nil
	}
	c.epoch++
	c.lostAt, c.lostErr = time.Time{}, nil
}
