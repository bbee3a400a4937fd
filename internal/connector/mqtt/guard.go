package mqtt

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/eventbridge-dev/eventbridge/internal/netguard"
)

// guardedDialer opens the connections of a source or target created
// through the API: the guard checks the address actually dialled (after
// DNS), and no proxy of the environment is used, since a proxy would
// connect on our behalf. Both libraries' own dialers honour the
// environment's proxy and take no Control hook, so it replaces them for
// every scheme we accept.
type guardedDialer struct {
	guard   *netguard.Guard
	tls     *tls.Config // for mqtts (ssl, tls) and wss; nil: the defaults
	timeout time.Duration
}

// dial opens a network connection to the broker at u, within the
// connect timeout; the MQTT handshake is the library's.
func (d *guardedDialer) dial(ctx context.Context, u *url.URL) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	nd := d.guard.Dialer(nil)
	switch strings.ToLower(u.Scheme) {
	case "mqtt", "tcp":
		return nd.DialContext(ctx, "tcp", u.Host)
	case "mqtts", "ssl", "tls":
		return (&tls.Dialer{NetDialer: nd, Config: d.tls}).DialContext(ctx, "tcp", u.Host)
	case "ws", "wss":
		wd := websocket.Dialer{
			NetDialContext:   nd.DialContext, // wss: TLS on top, with TLSClientConfig
			Proxy:            nil,
			TLSClientConfig:  d.tls,
			HandshakeTimeout: d.timeout,
			Subprotocols:     []string{"mqtt"},
		}
		ws, _, err := wd.DialContext(ctx, u.String(), nil)
		if err != nil {
			return nil, fmt.Errorf("websocket: %w", err)
		}
		return &wsConn{Conn: ws}, nil
	}
	return nil, fmt.Errorf("unsupported scheme %q", u.Scheme)
}

// wsConn is a WebSocket connection as a net.Conn: MQTT packets travel in
// binary messages, and a packet may span messages. The libraries' own
// adapters are not exported. Safe for one reader and concurrent writers.
type wsConn struct {
	*websocket.Conn
	rmu sync.Mutex
	r   io.Reader // the message being read; nil: take the next
	wmu sync.Mutex
}

func (c *wsConn) Read(p []byte) (int, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	for {
		if c.r == nil {
			_, r, err := c.NextReader()
			if err != nil {
				return 0, err
			}
			c.r = r
		}
		n, err := c.r.Read(p)
		if err == io.EOF {
			c.r = nil
			if n == 0 {
				continue
			}
			err = nil
		}
		return n, err
	}
}

func (c *wsConn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.WriteMessage(websocket.BinaryMessage, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// SetDeadline sets both deadlines; as in the libraries' adapters, a
// deadline that passes breaks the WebSocket for good.
func (c *wsConn) SetDeadline(t time.Time) error {
	if err := c.SetReadDeadline(t); err != nil {
		return err
	}
	return c.SetWriteDeadline(t)
}

var _ net.Conn = (*wsConn)(nil)
