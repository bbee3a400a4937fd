package amqp

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/amqpbinding"
	"github.com/eventbridge-dev/eventbridge/internal/connector/conntrack"
	"github.com/eventbridge-dev/eventbridge/internal/netguard"
)

// session is one connection and the one channel a connector uses on it.
// broken is closed when either closes; err then says why (nil after a
// close of our own). Read err only after broken is closed.
type session struct {
	conn   *amqp091.Connection
	ch     *amqp091.Channel
	broken chan struct{}
	err    error
}

func (s *session) close() {
	_ = s.ch.Close()
	_ = s.conn.Close()
}

// closeErr waits up to d for the session to break and returns why.
func (s *session) closeErr(d time.Duration) error {
	select {
	case <-s.broken:
		return s.err
	case <-time.After(d):
		return nil
	}
}

// dialer opens sessions to the broker of a connector's config.
type dialer struct {
	name      string
	cfg       *ConnConfig
	tlsConfig *tls.Config
	// guard holds the connections of a resource created through the API.
	guard *netguard.Guard
}

// newReconnector returns what keeps a source or target connected,
// reporting to conn. serve uses one session; see connector.Reconnector.
func newReconnector(name string, cfg *ConnConfig, deps connector.Deps, conn *conntrack.Conn,
	serve func(context.Context, *session, func(), <-chan struct{}) error) (*connector.Reconnector[*session], error) {
	tlsConfig, err := cfg.TLSConfig()
	if err != nil {
		return nil, err
	}
	d := &dialer{name: name, cfg: cfg, tlsConfig: tlsConfig, guard: deps.Guard}
	r := amqpbinding.NewReconnector[*session]("amqp", name, &cfg.Endpoint, deps, conn)
	r.Dial, r.Serve, r.Close = d.dial, serve, (*session).close
	return r, nil
}

// netDial is amqp091.DefaultDial held to the guard: the connection's
// deadline bounds the handshake.
func (r *dialer) netDial(network, addr string) (net.Conn, error) {
	timeout := r.cfg.ConnectTimeout.D()
	conn, err := r.guard.Dialer(&net.Dialer{Timeout: timeout}).Dial(network, addr)
	if err != nil {
		return nil, err
	}
	if err := conn.SetDeadline(time.Now().Add(timeout)); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

// dial opens a connection and a channel, and watches both.
func (r *dialer) dial(context.Context) (*session, error) {
	cfg := amqp091.Config{
		Heartbeat:       r.cfg.Heartbeat.D(),
		TLSClientConfig: r.tlsConfig,
		Properties:      amqp091.Table{"connection_name": "eventbridge amqp " + r.name},
		Dial:            r.netDial,
	}
	if r.cfg.Username != "" || r.cfg.Password != "" {
		user := r.cfg.Username
		if u, err := url.Parse(r.cfg.URL); err == nil && user == "" {
			user = u.User.Username()
		}
		cfg.SASL = []amqp091.Authentication{&amqp091.PlainAuth{Username: user, Password: r.cfg.Password.Value()}}
	}
	addr := r.cfg.URL
	if r.tlsConfig != nil && strings.HasPrefix(addr, "amqp://") {
		// amqp091 starts TLS only for amqps://; dial it ourselves.
		cfg.Dial = func(network, a string) (net.Conn, error) {
			d := &net.Dialer{Timeout: r.cfg.ConnectTimeout.D()}
			return tls.DialWithDialer(d, network, a, r.tlsConfig)
		}
	}
	conn, err := amqp091.DialConfig(addr, cfg)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", connector.Redact(addr), err)
	}
	ch, err := conn.Channel()
	if err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("open channel: %w", err)
	}
	s := &session{conn: conn, ch: ch, broken: make(chan struct{})}
	connClosed := conn.NotifyClose(make(chan *amqp091.Error, 1))
	chClosed := ch.NotifyClose(make(chan *amqp091.Error, 1))
	go func() {
		var e *amqp091.Error
		select {
		case e = <-connClosed:
		case e = <-chClosed:
		}
		if e != nil {
			s.err = e
		}
		close(s.broken)
	}()
	return s, nil
}
