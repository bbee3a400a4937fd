// Package grpc is a cloudsync transport over open-cluster-management's
// gRPC CloudEventService: Publish sends an event, a server-streaming
// Subscribe receives the events the broker routes to a source (its status
// events) or an agent (the spec events of its cluster), with heartbeats.
// eventbridge's grpc source with broker mode on is such a broker.
package grpc

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cloudevents/sdk-go/binding/format/protobuf/v2/pb"
	cloudevents "github.com/cloudevents/sdk-go/v2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/status"

	"github.com/eventbridge-dev/eventbridge/pkg/cepb"
	"github.com/eventbridge-dev/eventbridge/pkg/cloudsync"
)

// SubscriptionIDHeader is the response header of Subscribe that names the
// subscription.
const SubscriptionIDHeader = "subscription-id"

// Transport is a cloudsync.Transport over the CloudEventService.
type Transport struct {
	opts *Options
	req  *cepb.SubscriptionRequest
	errs chan error

	mu    sync.Mutex
	gen   int
	conn  *connection
	subID string
}

// connection is one Connect: a client connection and, once subscribed,
// its stream.
type connection struct {
	gen    int
	cc     *grpc.ClientConn
	client cepb.CloudEventServiceClient
	ctx    context.Context // ends on Close
	cancel context.CancelFunc
	events chan cloudevents.Event
	down   chan struct{} // closed when the stream ended
	once   sync.Once
	cause  error // why, set before down is closed
}

// markDown ends the connection's stream for Receive, with its cause.
func (c *connection) markDown(cause error) {
	c.once.Do(func() {
		c.cause = cause
		close(c.down)
	})
}

// NewSourceTransport is the transport of a source: it subscribes with its
// source id to the status events of a data type.
func NewSourceTransport(opts *Options, sourceID string, dt cloudsync.DataType) *Transport {
	return newTransport(opts, &cepb.SubscriptionRequest{Source: sourceID, DataType: dt.String()})
}

// NewAgentTransport is the transport of an agent: it subscribes with its
// cluster name to the spec events of a data type.
func NewAgentTransport(opts *Options, clusterName string, dt cloudsync.DataType) *Transport {
	return newTransport(opts, &cepb.SubscriptionRequest{ClusterName: clusterName, DataType: dt.String()})
}

func newTransport(opts *Options, req *cepb.SubscriptionRequest) *Transport {
	return &Transport{opts: opts, req: req, errs: make(chan error, 1)}
}

// SubscriptionID is the id the broker gave the current subscription.
func (t *Transport) SubscriptionID() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.subID
}

func (t *Transport) report(gen int, err error) {
	t.mu.Lock()
	current := t.conn != nil && t.conn.gen == gen
	t.mu.Unlock()
	if !current {
		return
	}
	select {
	case t.errs <- err:
	default:
	}
}

type bearer struct {
	token  string
	secure bool
}

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + b.token}, nil
}

func (b bearer) RequireTransportSecurity() bool { return b.secure }

// Connect dials the broker and waits until the connection is ready (up
// to the dial timeout). It does not retry: the cloudsync client does.
func (t *Transport) Connect(ctx context.Context) error {
	t.mu.Lock()
	if t.conn != nil {
		t.mu.Unlock()
		return errors.New("grpc: already connected")
	}
	t.gen++
	gen := t.gen
	t.mu.Unlock()

	var dopts []grpc.DialOption
	if t.opts.TLSConfig != nil {
		dopts = append(dopts, grpc.WithTransportCredentials(credentials.NewTLS(t.opts.TLSConfig)))
	} else {
		dopts = append(dopts, grpc.WithTransportCredentials(insecure.NewCredentials()))
	}
	if t.opts.Token != "" {
		dopts = append(dopts, grpc.WithPerRPCCredentials(bearer{token: t.opts.Token, secure: !t.opts.InsecureToken}))
	}
	if t.opts.KeepAlive {
		dopts = append(dopts, grpc.WithKeepaliveParams(keepalive.ClientParameters{
			Time: t.opts.KeepAliveTime, Timeout: t.opts.KeepAliveTimeout, PermitWithoutStream: t.opts.PermitWithoutStream}))
	}
	cc, err := grpc.NewClient(t.opts.URL, dopts...)
	if err != nil {
		return fmt.Errorf("grpc: %s: %w", t.opts.URL, err)
	}
	timeout := t.opts.DialTimeout
	if timeout <= 0 {
		timeout = DefaultDialTimeout
	}
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cc.Connect()
	for {
		s := cc.GetState()
		if s == connectivity.Ready {
			break
		}
		if s == connectivity.TransientFailure || s == connectivity.Shutdown {
			cc.Close()
			return fmt.Errorf("grpc: connect to %s: %s", t.opts.URL, s)
		}
		if !cc.WaitForStateChange(wctx, s) {
			cc.Close()
			return fmt.Errorf("grpc: connect to %s: %w", t.opts.URL, wctx.Err())
		}
	}
	cctx, ccancel := context.WithCancel(context.Background())
	conn := &connection{gen: gen, cc: cc, client: cepb.NewCloudEventServiceClient(cc), ctx: cctx, cancel: ccancel,
		events: make(chan cloudevents.Event, 256), down: make(chan struct{})}
	t.mu.Lock()
	t.conn = conn
	t.mu.Unlock()
	go t.watch(conn)
	return nil
}

// watch reports a connection that leaves the ready state (as OCM's client
// does: a broker that goes away turns it idle or failing).
func (t *Transport) watch(c *connection) {
	s := connectivity.Ready
	for c.cc.WaitForStateChange(c.ctx, s) {
		s = c.cc.GetState()
		if s == connectivity.TransientFailure || s == connectivity.Idle || s == connectivity.Shutdown {
			err := fmt.Errorf("grpc: connection lost (state %s)", s)
			c.markDown(err)
			t.report(c.gen, err)
			return
		}
	}
}

func (t *Transport) current() (*connection, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.conn == nil {
		return nil, errors.New("grpc: not connected")
	}
	return t.conn, nil
}

// Send publishes evt. The broker's refusals keep their gRPC status
// (InvalidArgument, FailedPrecondition, Unavailable).
func (t *Transport) Send(ctx context.Context, evt cloudevents.Event) error {
	c, err := t.current()
	if err != nil {
		return err
	}
	p, err := ToProto(evt)
	if err != nil {
		return err
	}
	_, err = c.client.Publish(ctx, &cepb.PublishRequest{Event: p})
	return err
}

// Subscribe opens the Subscribe stream and waits for the broker's
// subscription-id header. The stream lasts until Close or until ctx ends.
func (t *Transport) Subscribe(ctx context.Context) error {
	c, err := t.current()
	if err != nil {
		return err
	}
	sctx, cancel := context.WithCancel(c.ctx)
	stop := context.AfterFunc(ctx, cancel)
	stream, err := c.client.Subscribe(sctx, t.req)
	if err != nil {
		stop()
		cancel()
		return fmt.Errorf("grpc: subscribe: %w", err)
	}
	md, err := stream.Header()
	if err == nil && len(md.Get(SubscriptionIDHeader)) != 1 {
		// No header: the broker refused the stream; Recv has the reason.
		_, err = stream.Recv()
		if err == nil {
			err = errors.New("no subscription-id header")
		}
	}
	if err != nil {
		stop()
		cancel()
		return fmt.Errorf("grpc: subscribe: %w", err)
	}
	t.mu.Lock()
	t.subID = md.Get(SubscriptionIDHeader)[0]
	t.mu.Unlock()
	beats := make(chan struct{}, 1)
	go func() {
		defer stop()
		defer cancel()
		t.recv(sctx, c, stream, beats)
	}()
	if t.opts.ServerHealthinessTimeout > 0 {
		go t.health(sctx, c, beats)
	}
	return nil
}

// recv reads the stream: heartbeats go to the health check, events to
// Receive.
func (t *Transport) recv(ctx context.Context, c *connection, stream grpc.ServerStreamingClient[pb.CloudEvent], beats chan<- struct{}) {
	for {
		p, err := stream.Recv()
		if err != nil {
			err = fmt.Errorf("grpc: subscribe stream failed: %w", err)
			c.markDown(err)
			if ctx.Err() == nil || status.Code(err) != codes.Canceled {
				t.report(c.gen, err)
			}
			return
		}
		if p.GetType() == cloudsync.HeartbeatType {
			select {
			case beats <- struct{}{}:
			default:
			}
			continue
		}
		evt, err := FromProto(p)
		if err != nil {
			continue // not a valid event: dropped, as OCM's client does
		}
		select {
		case c.events <- evt:
		case <-ctx.Done():
			return
		}
	}
}

// health reports the stream broken when no heartbeat arrives within the
// server healthiness timeout.
func (t *Transport) health(ctx context.Context, c *connection, beats <-chan struct{}) {
	d := t.opts.ServerHealthinessTimeout
	tm := time.NewTimer(d)
	defer tm.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-beats:
			tm.Reset(d)
		case <-tm.C:
			err := fmt.Errorf("grpc: stream timeout: no heartbeat received for %s", d)
			c.markDown(err)
			t.report(c.gen, err)
			return
		}
	}
}

// Receive calls fn for every received event, in order, until ctx is done
// or the stream ends.
func (t *Transport) Receive(ctx context.Context, fn func(ctx context.Context, evt cloudevents.Event)) error {
	c, err := t.current()
	if err != nil {
		return err
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case evt := <-c.events:
			fn(ctx, evt)
		case <-c.down:
			// Deliver what was read before the stream ended.
			for {
				select {
				case evt := <-c.events:
					fn(ctx, evt)
				default:
					return c.cause
				}
			}
		}
	}
}

// ErrorChan reports a broken stream, a missing heartbeat or a lost
// connection.
func (t *Transport) ErrorChan() <-chan error { return t.errs }

// Close ends the stream and the connection.
func (t *Transport) Close(context.Context) error {
	t.mu.Lock()
	c := t.conn
	t.conn = nil
	t.mu.Unlock()
	if c == nil {
		return nil
	}
	c.cancel()
	c.markDown(errors.New("grpc: transport closed"))
	return c.cc.Close()
}

var _ cloudsync.Transport = (*Transport)(nil)
