package connector

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/connector/conntrack"
	"github.com/eventbridge-dev/eventbridge/internal/telemetry"
)

// Reconnector is the one reconnect loop of the connectors that hold a
// connection themselves (in the spirit of Benthos's Connect and
// ErrNotConnected): it dials with backoff and jitter (conntrack.Backoff),
// hands each session to Serve, and dials again when Serve returns, until
// Stop. It reports the connection state to one place, a conntrack.Conn:
// the component's state (starting with the last error, running while
// connected; detail "connected") and the connection metrics (connected,
// resets), as the connectors whose client reconnects by itself do with
// conntrack.Conn.Probe. While not connected a connector's Send returns
// ErrNotConnected. S is the connector's session: a connection and what it
// opened on it.
type Reconnector[S any] struct {
	// Name and Type label the metrics and logs.
	Name, Type string
	// Peer names the broker in logs (no credentials).
	Peer    string
	Log     *slog.Logger
	Tracker *component.Tracker
	Metrics *telemetry.Metrics
	// Conn, when set, is the connection state to report to (the
	// connector counts its messages and links there too); without it
	// Start makes one from Tracker and Metrics.
	Conn *conntrack.Conn
	// ReconnectMax bounds the wait between attempts (100ms doubling).
	ReconnectMax time.Duration
	// Dial opens a session; ctx is cancelled when Stop runs out of time.
	Dial func(ctx context.Context) (S, error)
	// Serve uses a session until it breaks or stop is closed, and says
	// why it returned (nil after stop). It calls ready once its links are
	// set up; an error before that counts as a failed connection attempt.
	Serve func(ctx context.Context, s S, ready func(), stop <-chan struct{}) error
	// Close releases a session after Serve.
	Close func(s S)

	stop   chan struct{}
	done   chan struct{}
	ctx    context.Context
	cancel context.CancelFunc
	once   sync.Once
}

// Start runs the connect loop in the background and returns nil: it never
// fails because the broker is down. Start and Stop have a component's
// signatures, so that a connector can embed its Reconnector for them.
func (r *Reconnector[S]) Start(context.Context) error {
	if r.Log == nil {
		r.Log = slog.New(slog.DiscardHandler)
	}
	if r.Conn == nil {
		r.Conn = conntrack.New(r.Tracker, r.Metrics, r.Name, r.Type)
	}
	r.stop, r.done = make(chan struct{}), make(chan struct{})
	r.ctx, r.cancel = context.WithCancel(context.Background())
	r.Conn.Starting()
	go r.loop()
	return nil
}

// Stop ends the loop and waits for it, and records the connector as
// stopped (Terminated); when ctx runs out first, the context given to
// Dial and Serve is cancelled. Safe to call twice, or without Start.
func (r *Reconnector[S]) Stop(ctx context.Context) error {
	if r.stop == nil {
		return nil
	}
	r.once.Do(func() {
		r.Conn.Stopping()
		close(r.stop)
	})
	select {
	case <-r.done:
	case <-ctx.Done():
		r.cancel()
		<-r.done
	}
	r.cancel()
	r.Conn.Stopped(nil)
	return nil
}

func (r *Reconnector[S]) loop() {
	defer close(r.done)
	b := conntrack.Backoff{Max: r.ReconnectMax}
	for {
		s, err := r.Dial(r.ctx)
		up := false
		if err == nil {
			err = r.Serve(r.ctx, s, func() {
				up = true
				b.Reset()
				r.Conn.Up()
				r.Log.Info("connected", "peer", r.Peer)
			}, r.stop)
			r.Close(s)
		}
		select {
		case <-r.stop:
			return
		default:
		}
		if err == nil {
			err = errors.New("connection closed")
		}
		if up {
			r.Log.Warn("connection lost; reconnecting", "err", err)
		} else {
			r.Log.Warn("cannot connect; retrying", "peer", r.Peer, "err", err)
		}
		r.Conn.Down(err) // a reset if it was up
		if !Sleep(r.stop, b.Next()) {
			return
		}
	}
}
