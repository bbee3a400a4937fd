package amqp1

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"

	amqp "github.com/Azure/go-amqp"

	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/amqpbinding"
	"github.com/eventbridge-dev/eventbridge/internal/connector/conntrack"
	"github.com/eventbridge-dev/eventbridge/internal/netguard"
)

// session is one connection and the one session a connector uses on it.
type session struct {
	conn *amqp.Conn
	sess *amqp.Session
}

// dialer opens sessions to the peer of a connector's config.
type dialer struct {
	cfg       *ConnConfig
	tlsConfig *tls.Config
	// guard holds the connections of a resource created through the API.
	guard *netguard.Guard
}

// newReconnector returns what keeps a source or target connected,
// reporting to conn. serve uses one session; see connector.Reconnector.
func newReconnector(name string, cfg *ConnConfig, deps connector.Deps, conn *conntrack.Conn,
	serve func(context.Context, *session, func(), <-chan struct{}) error) (*connector.Reconnector[*session], error) {
	if cfg.ContainerID == "" {
		cfg.ContainerID = "eventbridge-" + name
	}
	tlsConfig, err := cfg.TLSConfig()
	if err != nil {
		return nil, err
	}
	d := &dialer{cfg: cfg, tlsConfig: tlsConfig, guard: deps.Guard}
	r := amqpbinding.NewReconnector[*session]("amqp1", name, &cfg.Endpoint, deps, conn)
	r.Dial, r.Serve, r.Close = d.dial, serve, func(s *session) { _ = s.conn.Close() }
	return r, nil
}

// hostPort is the URL's host and port, with AMQP's default port.
func hostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	if u.Scheme == "amqps" {
		return net.JoinHostPort(u.Hostname(), "5671")
	}
	return net.JoinHostPort(u.Hostname(), "5672")
}

func (r *dialer) dial(ctx context.Context) (*session, error) {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.ConnectTimeout.D())
	defer cancel()
	opts := &amqp.ConnOptions{ContainerID: r.cfg.ContainerID, IdleTimeout: r.cfg.IdleTimeout.D(), TLSConfig: r.tlsConfig}
	u, _ := url.Parse(r.cfg.URL)
	user := r.cfg.Username
	if user == "" {
		user = u.User.Username()
	}
	if user != "" || r.cfg.Password != "" {
		opts.SASLType = amqp.SASLTypePlain(user, r.cfg.Password.Value())
	} else {
		opts.SASLType = amqp.SASLTypeAnonymous()
	}
	u.User = nil
	var conn *amqp.Conn
	var err error
	switch {
	case r.tlsConfig != nil && (u.Scheme == "amqp" || r.guard != nil):
		// go-amqp starts TLS only for amqps://, and has no dialer to
		// hold to the guard: dial it ourselves.
		var nc net.Conn
		d := &tls.Dialer{NetDialer: r.guard.Dialer(nil), Config: r.tlsConfig}
		if nc, err = d.DialContext(ctx, "tcp", hostPort(u)); err == nil {
			conn, err = amqp.NewConn(ctx, nc, opts)
		}
	case r.guard != nil:
		var nc net.Conn
		if nc, err = r.guard.DialContext(ctx, "tcp", hostPort(u)); err == nil {
			conn, err = amqp.NewConn(ctx, nc, opts)
		}
	default:
		conn, err = amqp.Dial(ctx, u.String(), opts)
	}
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", connector.Redact(r.cfg.URL), err)
	}
	sess, err := conn.NewSession(ctx, nil)
	if err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("begin session: %w", err)
	}
	return &session{conn: conn, sess: sess}, nil
}

// broken reports whether err means the link, session or connection is
// gone (so the runner must reconnect), as opposed to a refusal of one
// message.
func broken(err error) bool {
	var le *amqp.LinkError
	var se *amqp.SessionError
	var ce *amqp.ConnError
	return errors.As(err, &le) || errors.As(err, &se) || errors.As(err, &ce)
}
