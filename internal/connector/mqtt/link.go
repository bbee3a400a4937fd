package mqtt

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/intake"
	"github.com/eventbridge-dev/eventbridge/internal/netguard"
)

// link is a connection to the broker that keeps itself up, reconnecting
// with backoff, until closed. Both protocol versions implement it.
type link interface {
	// publish sends m and, for QoS 1 and 2, waits for the broker's
	// acknowledgement. It returns connector.ErrNotConnected while the
	// connection is down and a connector.Permanent error when the broker
	// refuses the message for good.
	publish(ctx context.Context, m *Message) error
	// close disconnects and stops reconnecting.
	close(ctx context.Context) error
}

// subscription is a topic filter and its maximum QoS.
type subscription struct {
	filter string
	qos    byte
}

// delivery is a received message and how to acknowledge it.
type delivery struct {
	msg Message
	// ack acknowledges the message to the broker (PUBACK, PUBREC); a no-op
	// for QoS 0 or once the connection that brought it is gone, when the
	// broker will send it again.
	ack func()
}

// linkConfig is what a source or a target asks of a link.
type linkConfig struct {
	conn     *ConnConfig
	clientID string
	// cleanStart discards the broker's session state on the first
	// connection; sessionExpiry keeps it that long after a disconnect
	// (MQTT 5; in 3.1.1 a session is persistent unless cleanStart).
	cleanStart    bool
	sessionExpiry time.Duration
	// receiveMax bounds the unacknowledged QoS 1/2 messages the broker
	// sends (MQTT 5 Receive Maximum); 0: the protocol's default.
	receiveMax uint16
	subs       []subscription
	// onMessage gets each received message; it must not block long.
	// Nil for targets: the link then acknowledges nothing by hand.
	onMessage func(delivery)
	// onState reports the connection: up once connected and subscribed;
	// down (with the reason) when a connection attempt failed or the
	// connection was lost.
	onState func(up bool, err error)
	// onTakeover reports, once per change, that another client has taken
	// the client id (err says how it was seen), or no longer contests it.
	onTakeover func(taken bool, err error)
	// guard, when set (resources created through the API), holds every
	// connection to the address dialled; see guardedDialer.
	guard *netguard.Guard
	log   *slog.Logger
}

// dial starts a link; it returns at once and connects in the background.
func dial(cfg linkConfig) (link, error) {
	var urls []*url.URL
	for _, s := range cfg.conn.urls() {
		u, err := url.Parse(s)
		if err != nil {
			return nil, fmt.Errorf("url: %w", err)
		}
		urls = append(urls, u)
	}
	if cfg.conn.Version == V311 {
		return dial311(cfg, urls)
	}
	return dial5(cfg, urls)
}

// errConnectionLost is the health error while reconnecting.
var errConnectionLost = errors.New("connection to the broker lost; reconnecting")

// reasonError classifies an MQTT 5 reason code of a PUBACK or PUBREC:
// refusals that do not change (not authorized, bad topic, too large, bad
// payload format) are permanent; others may pass later.
func reasonError(code byte, reason string) error {
	err := &connector.StatusError{Code: int(code), Err: fmt.Errorf("broker refused the message: reason 0x%02x %s", code, reason)}
	switch code {
	case 0x87, 0x90, 0x95, 0x99:
		return connector.Permanent(err)
	}
	return err
}

// subscriber runs the subscribing of each new connection on its own
// goroutine (the libraries' connect callbacks must not block) and
// reports the link up only once subscribed and still connected.
type subscriber struct {
	mu     sync.Mutex
	cancel context.CancelFunc // of the current connection's subscribing
	closed bool               // the link is closing: subscribe no more
	wg     sync.WaitGroup
}

// connected starts subscribing for a new connection.
func (s *subscriber) connected(cfg *linkConfig, subscribe func(context.Context) error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cancel != nil {
		s.cancel()
	}
	if s.closed {
		// The libraries report a connection from their own goroutines,
		// which may do so after close: its subscribing would never end.
		s.cancel = nil
		return
	}
	if len(cfg.subs) == 0 {
		s.cancel = nil
		cfg.onState(true, nil)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		err := intake.Retry(ctx, subscribe, func(_ int, err error) { cfg.onState(false, err) })
		s.mu.Lock()
		defer s.mu.Unlock()
		if err == nil && ctx.Err() == nil {
			cfg.onState(true, nil)
		}
	}()
}

// lost ends the subscribing of a lost connection and reports it (err nil:
// the link is closing, nothing to report, and nothing to subscribe again).
func (s *subscriber) lost(cfg *linkConfig, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cancel != nil {
		s.cancel()
		s.cancel = nil
	}
	if err != nil {
		cfg.onState(false, err)
	} else {
		s.closed = true
	}
}

// wait waits for subscribing goroutines to end (after lost).
func (s *subscriber) wait() { s.wg.Wait() }
