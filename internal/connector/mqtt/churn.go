package mqtt

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"
)

// errTakenOver is the health error while another client takes the client
// id: a broker keeps one connection per client id and closes the older one
// when another connects with it.
var errTakenOver = errors.New("client id taken over by another client")

// takeoverDrops is how many connections in a row must end soon after they
// were made, each reconnect succeeding at once, before the client id
// counts as taken over: an MQTT 3.1.1 broker just closes the connection
// of a client whose id another takes, and so do MQTT 5 brokers that send
// no DISCONNECT with reason 0x8E (Mosquitto 2.0). A broker that restarts
// refuses connections for a while, which starts the count again.
const takeoverDrops = 3

// churn paces the connection attempts of one link and tells a client id
// that another client keeps taking over from a connection that was lost
// once. Every attempt but the very first waits, with jitter, and the wait
// keeps growing over connections that drop before they were up for
// stable, so that two clients with one id do not knock each other off in
// a tight loop. Safe for concurrent use.
type churn struct {
	maxWait  time.Duration
	stable   time.Duration
	clientID string
	log      *slog.Logger
	// notify is called, under the churn's lock, on each change of the
	// taken-over state; it must not call the churn.
	notify func(taken bool, err error)

	mu        sync.Mutex
	started   bool // an attempt was made: the next ones wait
	connected bool
	upAt      time.Time
	gen       int // of the current connection, for its stable timer
	timer     *time.Timer
	drops     int // connections in a row that dropped before stable
	quick     int // of those, the last ones each followed by a connection at once
	takenOver bool
	closed    bool
}

func newChurn(cfg *linkConfig) *churn {
	maxWait := cfg.conn.ReconnectMax.D()
	log := cfg.log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	notify := cfg.onTakeover
	if notify == nil {
		notify = func(bool, error) {}
	}
	// The other client reconnects within maxWait: a connection that
	// lasts twice that is not contested (any more).
	return &churn{maxWait: maxWait, stable: max(2*maxWait, time.Second), clientID: cfg.clientID, log: log, notify: notify}
}

// delay is the wait before connection attempt n after the last
// connection (or the start): none for the first attempt of all, then
// 100ms doubling up to maxWait, counted over the connections that dropped
// soon, each wait between half and all of that.
func (c *churn) delay(attempt int) time.Duration {
	c.mu.Lock()
	n := c.drops + attempt
	if !c.started {
		c.started = true
		n = 0
	} else {
		n = max(n, 1)
	}
	c.mu.Unlock()
	return jitter(backoffStep(n, c.maxWait))
}

// backoffStep is 0 for n <= 0, else 100ms doubling n-1 times, up to maxWait.
// Not a conntrack.Backoff: paho asks for the wait by attempt number, and n
// also counts the take-overs of the client id, so the wait is a function.
func backoffStep(n int, maxWait time.Duration) time.Duration {
	if n <= 0 {
		return 0
	}
	d := 100 * time.Millisecond
	for i := 1; i < n && d < maxWait; i++ {
		d *= 2
	}
	return min(d, maxWait)
}

// jitter returns a random duration between d/2 and d.
func jitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d-d/2)
}

// up records a new connection.
func (c *churn) up() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.started, c.connected, c.upAt = true, true, time.Now()
	c.gen++
	gen := c.gen
	if c.timer != nil {
		c.timer.Stop()
	}
	if !c.closed {
		c.timer = time.AfterFunc(c.stable, func() { c.settled(gen) })
	}
}

// settled runs when connection gen has been up for stable: nobody
// contests the client id.
func (c *churn) settled(gen int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || !c.connected || gen != c.gen {
		return
	}
	c.drops, c.quick = 0, 0
	if c.takenOver {
		c.takenOver = false
		c.log.Info("client id no longer taken over: the connection has stayed up", "client_id", c.clientID, "for", c.stable)
		c.notify(false, nil)
	}
}

// down records a lost connection.
func (c *churn) down() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.connected {
		return
	}
	c.connected = false
	if c.timer != nil {
		c.timer.Stop()
	}
	if time.Since(c.upAt) >= c.stable {
		c.drops, c.quick = 0, 0
	}
	c.drops++
	c.quick++
	if c.quick >= takeoverDrops {
		c.takeover(fmt.Errorf("%w (most likely): %d connections in a row ended soon after they were made; give each bridge its own client_id", errTakenOver, c.quick))
	}
}

// failed records a failed connection attempt: a connection that ended
// was not taken over by another client.
func (c *churn) failed() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.quick = 0
}

// takenOverNow records that the broker said another client took the id
// (MQTT 5 DISCONNECT with reason 0x8E, Session taken over).
func (c *churn) takenOverNow() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.takeover(fmt.Errorf("%w: the broker said so (MQTT 5 reason 0x8E, Session taken over); give each bridge its own client_id", errTakenOver))
}

func (c *churn) takeover(err error) {
	if c.closed || c.takenOver {
		return
	}
	c.takenOver = true
	c.log.Warn("client id taken over by another client; reconnecting with backoff, and logging again only when that ends", "client_id", c.clientID, "err", err)
	c.notify(true, err)
}

// close stops the timer; nothing is reported afterwards.
func (c *churn) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	if c.timer != nil {
		c.timer.Stop()
	}
}
