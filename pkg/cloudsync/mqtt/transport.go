// Package mqtt is the MQTT v5 transport of cloudsync, wire-compatible
// with open-cluster-management's MQTT driver: the same topic layout and
// validation, the same YAML config keys, CleanStart connections, agent
// client ids "<agentID>-client", and CloudEvents in binary mode as MQTT 5
// user properties (structured mode is accepted on receive).
package mqtt

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"sync"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/packets"
	"github.com/eclipse/paho.golang/paho"

	"github.com/eventbridge-dev/eventbridge/pkg/cloudsync"
)

// ErrNotConnected is returned by Send and Subscribe before Connect.
var ErrNotConnected = errors.New("mqtt: not connected")

// Transport is a cloudsync.Transport over one MQTT 5 connection. The
// connection is not re-established by the transport itself: a lost
// connection is reported on ErrorChan and the cloudsync client
// reconnects (Close, Connect, Subscribe).
type Transport struct {
	opts     Options
	role     cloudsync.Role
	clientID string
	id       string // source id or cluster name
	subs     []string
	errs     chan error

	mu     sync.Mutex
	gen    int
	conn   *connection
	closed bool
}

// connection is one autopaho connection manager and its inbox.
type connection struct {
	gen    int
	cm     *autopaho.ConnectionManager
	cancel context.CancelFunc

	mu    sync.Mutex
	queue []*paho.Publish
	wake  chan struct{}
	down  bool
}

func (c *connection) push(p *paho.Publish) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.down {
		return
	}
	c.queue = append(c.queue, p)
	close(c.wake)
	c.wake = make(chan struct{})
}

func (c *connection) markDown() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.down {
		c.down = true
		close(c.wake)
		c.wake = make(chan struct{})
	}
}

// NewSourceTransport returns the transport of source sourceID. It
// subscribes to agentEvents (whose source token must be sourceID or "+")
// and agentBroadcast. clientID "" becomes "<sourceID>-<random>" (sources
// may run several instances behind a shared subscription).
func NewSourceTransport(opts *Options, clientID, sourceID string) (*Transport, error) {
	if sourceID == "" {
		return nil, errors.New("mqtt: the source id is required")
	}
	if err := opts.Topics.Validate(); err != nil {
		return nil, err
	}
	subs, err := SourceSubscriptions(opts.Topics, sourceID)
	if err != nil {
		return nil, err
	}
	if clientID == "" {
		var b [4]byte
		_, _ = rand.Read(b[:])
		clientID = sourceID + "-" + hex.EncodeToString(b[:])
	}
	return &Transport{opts: *opts, role: cloudsync.RoleSource, clientID: clientID, id: sourceID, subs: subs, errs: make(chan error, 1)}, nil
}

// NewAgentTransport returns the transport of an agent of clusterName,
// with the client id "<agentID>-client". It subscribes to sourceEvents
// (its last "+" replaced by the cluster) and sourceBroadcast.
func NewAgentTransport(opts *Options, clusterName, agentID string) (*Transport, error) {
	if clusterName == "" || agentID == "" {
		return nil, errors.New("mqtt: the cluster name and the agent id are required")
	}
	if err := opts.Topics.Validate(); err != nil {
		return nil, err
	}
	return &Transport{
		opts: *opts, role: cloudsync.RoleAgent, clientID: agentID + "-client", id: clusterName,
		subs: AgentSubscriptions(opts.Topics, clusterName), errs: make(chan error, 1),
	}, nil
}

// ClientID returns the MQTT client id.
func (t *Transport) ClientID() string { return t.clientID }

// Subscriptions returns the topic filters Subscribe subscribes to.
func (t *Transport) Subscriptions() []string { return append([]string(nil), t.subs...) }

func (t *Transport) report(gen int, err error) {
	t.mu.Lock()
	current := t.conn != nil && t.conn.gen == gen && !t.closed
	t.mu.Unlock()
	if !current {
		return
	}
	select {
	case t.errs <- err:
	default:
	}
}

// Connect opens an MQTT 5 connection (CleanStart, the configured keep
// alive, credentials and TLS) and waits until the broker accepts it. A
// refused or failed first attempt is returned; the transport does not
// retry (the cloudsync client does, with backoff).
func (t *Transport) Connect(ctx context.Context) error {
	t.mu.Lock()
	if t.conn != nil {
		t.mu.Unlock()
		return errors.New("mqtt: already connected")
	}
	t.gen++
	gen := t.gen
	t.closed = false
	t.mu.Unlock()

	scheme := "mqtt"
	if t.opts.TLSConfig != nil {
		scheme = "mqtts"
	}
	u := &url.URL{Scheme: scheme, Host: t.opts.BrokerHost}
	conn := &connection{gen: gen, wake: make(chan struct{})}
	up := make(chan struct{})
	failed := make(chan error, 1)
	var upOnce sync.Once
	timeout := t.opts.DialTimeout
	if timeout <= 0 {
		timeout = DefaultDialTimeout
	}
	cc := autopaho.ClientConfig{
		ServerUrls:                    []*url.URL{u},
		TlsCfg:                        t.opts.TLSConfig,
		KeepAlive:                     t.opts.KeepAlive,
		CleanStartOnInitialConnection: true,
		ConnectTimeout:                timeout,
		ConnectUsername:               t.opts.Username,
		ConnectPassword:               []byte(t.opts.Password),
		// attempt 0 is the first connect; the client does the retries
		ReconnectBackoff: func(attempt int) time.Duration {
			if attempt == 0 {
				return 0
			}
			return time.Hour
		},
		AttemptConnection: func(ctx context.Context, _ autopaho.ClientConfig, u *url.URL) (net.Conn, error) {
			d := &net.Dialer{Timeout: timeout}
			var c net.Conn
			var err error
			if t.opts.TLSConfig != nil {
				td := tls12Dialer(d, t.opts.TLSConfig)
				c, err = td.DialContext(ctx, "tcp", u.Host)
			} else {
				c, err = d.DialContext(ctx, "tcp", u.Host)
			}
			if err != nil {
				return nil, err
			}
			return packets.NewThreadSafeConn(c), nil
		},
		OnConnectionUp: func(*autopaho.ConnectionManager, *paho.Connack) {
			upOnce.Do(func() { close(up) })
		},
		OnConnectionDown: func() bool {
			conn.markDown()
			t.report(gen, errors.New("mqtt: connection to the broker lost"))
			return false
		},
		OnConnectError: func(err error) {
			select {
			case failed <- err:
			default:
			}
		},
		ConnectPacketBuilder: func(cp *paho.Connect, _ *url.URL) (*paho.Connect, error) {
			cp.CleanStart = true
			if cp.Properties == nil {
				cp.Properties = &paho.ConnectProperties{}
			}
			// Some brokers strip the user properties (binary mode's
			// attributes) unless problem information is requested.
			cp.Properties.RequestProblemInfo = true
			return cp, nil
		},
		ClientConfig: paho.ClientConfig{
			ClientID: t.clientID,
			OnPublishReceived: []func(paho.PublishReceived) (bool, error){
				func(pr paho.PublishReceived) (bool, error) {
					conn.push(pr.Packet)
					return true, nil
				},
			},
			OnClientError: func(err error) {
				t.report(gen, fmt.Errorf("mqtt: client error: %w", err))
			},
			OnServerDisconnect: func(d *paho.Disconnect) {
				t.report(gen, fmt.Errorf("mqtt: the broker disconnected (reason code 0x%02x)", d.ReasonCode))
			},
		},
	}
	mctx, cancel := context.WithCancel(context.Background())
	cm, err := autopaho.NewConnection(mctx, cc)
	if err != nil {
		cancel()
		return fmt.Errorf("mqtt: %w", err)
	}
	conn.cm, conn.cancel = cm, cancel
	// current before it is up, so that a drop right after the CONNACK is
	// reported
	t.mu.Lock()
	t.conn = conn
	t.mu.Unlock()
	fail := func(err error) error {
		t.mu.Lock()
		if t.conn == conn {
			t.conn = nil
		}
		t.mu.Unlock()
		conn.markDown()
		cancel()
		<-cm.Done()
		return err
	}
	wait := time.NewTimer(timeout + 5*time.Second)
	defer wait.Stop()
	select {
	case <-up:
		return nil
	case err := <-failed:
		return fail(fmt.Errorf("mqtt: connect to %s: %w", t.opts.BrokerHost, err))
	case <-ctx.Done():
		return fail(ctx.Err())
	case <-wait.C:
		return fail(fmt.Errorf("mqtt: connect to %s: timed out", t.opts.BrokerHost))
	}
}

func (t *Transport) current() (*connection, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.conn == nil {
		return nil, ErrNotConnected
	}
	return t.conn, nil
}

// Topic returns the topic Send publishes evt to.
func (t *Transport) Topic(evt *cloudevents.Event) (string, error) {
	if t.role == cloudsync.RoleSource {
		return SourcePublishTopic(t.opts.Topics, t.id, evt)
	}
	return AgentPublishTopic(t.opts.Topics, t.id, evt)
}

// Send publishes evt in binary mode to the topic of its type and
// extensions, with the configured publish QoS.
func (t *Transport) Send(ctx context.Context, evt cloudevents.Event) error {
	conn, err := t.current()
	if err != nil {
		return err
	}
	topic, err := t.Topic(&evt)
	if err != nil {
		return fmt.Errorf("mqtt: %w", err)
	}
	p := &paho.Publish{Topic: topic, QoS: t.opts.PubQoS}
	if err := WritePublish(&evt, p); err != nil {
		return fmt.Errorf("mqtt: %w", err)
	}
	resp, err := conn.cm.Publish(ctx, p)
	if err != nil {
		return fmt.Errorf("mqtt: publish to %s: %w", topic, err)
	}
	if resp != nil && resp.ReasonCode >= 0x80 {
		return fmt.Errorf("mqtt: publish to %s: refused with reason code 0x%02x", topic, resp.ReasonCode)
	}
	return nil
}

// Subscribe subscribes to the role's topic filters with the configured
// subscribe QoS.
func (t *Transport) Subscribe(ctx context.Context) error {
	conn, err := t.current()
	if err != nil {
		return err
	}
	s := &paho.Subscribe{}
	for _, f := range t.subs {
		s.Subscriptions = append(s.Subscriptions, paho.SubscribeOptions{Topic: f, QoS: t.opts.SubQoS})
	}
	sa, err := conn.cm.Subscribe(ctx, s)
	if err != nil {
		if sa != nil {
			return fmt.Errorf("mqtt: subscribe %v: %w (reason codes % x)", t.subs, err, sa.Reasons)
		}
		return fmt.Errorf("mqtt: subscribe %v: %w", t.subs, err)
	}
	for i, rc := range sa.Reasons {
		if rc >= 0x80 {
			return fmt.Errorf("mqtt: subscribe %s: refused with reason code 0x%02x", t.subs[min(i, len(t.subs)-1)], rc)
		}
	}
	return nil
}

// Receive calls fn for every received event, in order, until ctx is done
// or the connection ends. Messages that are not CloudEvents are dropped.
// fn may publish.
func (t *Transport) Receive(ctx context.Context, fn func(ctx context.Context, evt cloudevents.Event)) error {
	conn, err := t.current()
	if err != nil {
		return err
	}
	for {
		conn.mu.Lock()
		if len(conn.queue) > 0 {
			p := conn.queue[0]
			conn.queue[0] = nil
			conn.queue = conn.queue[1:]
			conn.mu.Unlock()
			evt, err := ReadPublish(p)
			if err != nil {
				continue
			}
			fn(ctx, *evt)
			continue
		}
		if conn.down {
			conn.mu.Unlock()
			return nil // closed, or lost and reported on ErrorChan
		}
		wake := conn.wake
		conn.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil
		case <-wake:
		}
	}
}

// ErrorChan reports a lost connection or a client error.
func (t *Transport) ErrorChan() <-chan error { return t.errs }

// Close disconnects (a DISCONNECT if the connection is up) and ends
// Receive.
func (t *Transport) Close(ctx context.Context) error {
	t.mu.Lock()
	conn := t.conn
	t.conn = nil
	t.closed = true
	t.mu.Unlock()
	if conn == nil {
		return nil
	}
	conn.markDown()
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	err := conn.cm.Disconnect(dctx)
	conn.cancel()
	<-conn.cm.Done()
	if errors.Is(err, autopaho.ConnectionDownError) {
		err = nil
	}
	return err
}

var _ cloudsync.Transport = (*Transport)(nil)
