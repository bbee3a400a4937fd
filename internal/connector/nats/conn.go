package nats

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/netguard"
)

// dial connects to the server in the background: it returns at once, and
// reconnects forever until the connection is closed. onState sees the
// connection come up and go down. Publishes fail (rather than being
// buffered) while it is down, so that targets can say ErrNotConnected.
//
// A non-nil guard holds every connection, to the servers of the URL and to
// those the cluster announces, to the address dialled (after DNS).
func dial(c *ConnConfig, guard *netguard.Guard, name string, log *slog.Logger, onState func(up bool, err error)) (*nats.Conn, error) {
	opts := []nats.Option{
		nats.Name("eventbridge " + name),
		nats.RetryOnFailedConnect(true),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(c.ReconnectWait.D()),
		nats.Timeout(c.ConnectTimeout.D()),
		nats.ReconnectBufSize(-1),
		nats.ConnectHandler(func(*nats.Conn) { onState(true, nil) }),
		nats.ReconnectHandler(func(*nats.Conn) { onState(true, nil) }),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err == nil {
				err = errors.New("disconnected")
			}
			onState(false, err)
		}),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			subject := ""
			if sub != nil {
				subject = sub.Subject
			}
			log.Warn("nats error", "subject", subject, "err", err)
		}),
	}
	if guard != nil {
		opts = append(opts, nats.SetCustomDialer(guard.Dialer(&net.Dialer{Timeout: c.ConnectTimeout.D()})))
	}
	switch {
	case c.Credentials != "":
		opts = append(opts, nats.UserCredentials(c.Credentials))
	case c.NKey != "":
		kp, err := nkeys.FromSeed([]byte(strings.TrimSpace(c.NKey.Value())))
		if err != nil {
			return nil, fmt.Errorf("nkey: %w", err)
		}
		pub, err := kp.PublicKey()
		if err != nil {
			return nil, fmt.Errorf("nkey: %w", err)
		}
		opts = append(opts, nats.Nkey(pub, kp.Sign))
	case c.Token != "":
		opts = append(opts, nats.Token(c.Token.Value()))
	case c.User != "":
		opts = append(opts, nats.UserInfo(c.User, c.Password.Value()))
	}
	if !c.TLS.IsZero() {
		tc, err := c.TLS.Config()
		if err != nil {
			return nil, err
		}
		opts = append(opts, nats.Secure(tc))
	}
	nc, err := nats.Connect(c.URL, opts...)
	if err != nil {
		return nil, fmt.Errorf("nats: %w", err)
	}
	return nc, nil
}

// publishError classifies an error of publishing on a core connection.
func publishError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, nats.ErrMaxPayload), errors.Is(err, nats.ErrBadSubject), errors.Is(err, nats.ErrHeadersNotSupported):
		return connector.Permanent(err)
	case errors.Is(err, nats.ErrConnectionClosed), errors.Is(err, nats.ErrConnectionReconnecting),
		errors.Is(err, nats.ErrReconnectBufExceeded), errors.Is(err, nats.ErrConnectionDraining):
		return fmt.Errorf("%w: %v", connector.ErrNotConnected, err)
	}
	return err
}
