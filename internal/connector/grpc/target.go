package grpc

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/netguard"
	"github.com/eventbridge-dev/eventbridge/internal/telemetry"
	"github.com/eventbridge-dev/eventbridge/pkg/cepb"
)

// Target publishes events to a remote CloudEventService. gRPC keeps the
// connection up by itself (reconnecting with backoff); Send fails with
// ErrNotConnected while it is down.
type Target struct {
	name  string
	cfg   *TargetConfig
	log   *slog.Logger
	guard *netguard.Guard // nil: any address

	mu     sync.Mutex
	conn   *grpc.ClientConn
	client cepb.CloudEventServiceClient
	cancel context.CancelFunc
	done   chan struct{}

	messages  *prometheus.CounterVec // outcome
	connected prometheus.Gauge
	resets    prometheus.Counter

	component.Tracker
}

func newTarget(name string, c connector.Config, deps connector.Deps) (connector.Target, error) {
	cfg := c.(*TargetConfig)
	if deps.Metrics == nil {
		deps.Metrics = telemetry.NewMetrics()
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	m := deps.Metrics
	t := &Target{name: name, cfg: cfg, log: deps.Logger.With("connector", name, "type", "grpc"), guard: deps.Guard,
		messages:  m.ConnMessages.MustCurryWith(prometheus.Labels{"connector": name, "type": "grpc", "direction": "out"}),
		connected: m.ConnConnected.WithLabelValues(name, "grpc"),
		resets:    m.ConnResets.WithLabelValues(name, "grpc"),
	}
	t.Set(component.New, nil)
	return t, nil
}

// bearer sends the token with every call.
type bearer struct {
	token  string
	secure bool
}

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + b.token}, nil
}
func (b bearer) RequireTransportSecurity() bool { return b.secure }

// Start creates the client and begins connecting; it does not wait for the
// server.
func (t *Target) Start(context.Context) error {
	t.Set(component.Starting, nil)
	creds := insecure.NewCredentials()
	if t.cfg.TLS.On() {
		tc, err := t.cfg.TLS.Config()
		if err != nil {
			t.Set(component.Failed, err)
			return fmt.Errorf("target %s: %w", t.name, err)
		}
		creds = credentials.NewTLS(tc)
	}
	opts := []grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		grpc.WithDefaultCallOptions(grpc.MaxCallSendMsgSize(int(t.cfg.MaxMessageSize))),
		grpc.WithIdleTimeout(0), // stay connected, so that health shows the truth
	}
	if t.guard != nil {
		// Dial the resolved address itself (no proxy), held to the guard;
		// it refuses what is not an IP address and port (a unix socket).
		opts = append(opts, grpc.WithNoProxy(), grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) {
			return t.guard.DialContext(ctx, "tcp", addr)
		}))
	}
	if t.cfg.Token != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(bearer{token: t.cfg.Token.Value(), secure: t.cfg.TLS.On()}))
	}
	conn, err := grpc.NewClient(t.cfg.Address, opts...)
	if err != nil {
		t.Set(component.Failed, err)
		return fmt.Errorf("target %s: %w", t.name, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.mu.Lock()
	t.conn, t.client, t.cancel, t.done = conn, cepb.NewCloudEventServiceClient(conn), cancel, make(chan struct{})
	t.mu.Unlock()
	conn.Connect()
	go t.watch(ctx, conn, t.done)
	return nil
}

// watch mirrors the connection state into health and metrics.
func (t *Target) watch(ctx context.Context, conn *grpc.ClientConn, done chan struct{}) {
	defer close(done)
	wasReady := false
	for {
		st := conn.GetState()
		switch st {
		case connectivity.Ready:
			wasReady = true
			t.connected.Set(1)
			t.SetDetail("connected", true)
			t.Set(component.Running, nil)
		case connectivity.TransientFailure, connectivity.Idle, connectivity.Connecting:
			if wasReady {
				wasReady = false
				t.resets.Inc()
				t.log.Warn("connection lost; reconnecting", "address", t.cfg.Address)
			}
			t.connected.Set(0)
			t.SetDetail("connected", false)
			if st == connectivity.TransientFailure {
				t.Set(component.Starting, fmt.Errorf("cannot connect to %s", t.cfg.Address))
			}
			if st == connectivity.Idle {
				conn.Connect()
			}
		}
		if !conn.WaitForStateChange(ctx, st) {
			t.connected.Set(0)
			return
		}
	}
}

// Stop closes the connection; calls in flight fail.
func (t *Target) Stop(context.Context) error {
	t.Set(component.Stopping, nil)
	t.mu.Lock()
	conn, cancel, done := t.conn, t.cancel, t.done
	t.conn, t.client = nil, nil
	t.mu.Unlock()
	if conn != nil {
		cancel()
		<-done
		_ = conn.Close()
	}
	t.SetDetail("connected", false)
	t.Set(component.Terminated, nil)
	return nil
}

// Send calls Publish. Status codes that retrying cannot change
// (InvalidArgument, PermissionDenied, Unauthenticated, NotFound,
// Unimplemented, FailedPrecondition, OutOfRange, AlreadyExists) are
// permanent; the others are retried.
func (t *Target) Send(ctx context.Context, e *ce.Event) error {
	t.mu.Lock()
	conn, client := t.conn, t.client
	t.mu.Unlock()
	if client == nil || conn.GetState() == connectivity.TransientFailure {
		return connector.ErrNotConnected
	}
	p, err := ToProto(e)
	if err != nil {
		t.messages.WithLabelValues("error").Inc()
		return connector.Permanent(err)
	}
	ctx, cancel := context.WithTimeout(ctx, t.cfg.Timeout.D())
	defer cancel()
	_, err = client.Publish(ctx, &cepb.PublishRequest{Event: p})
	if err == nil {
		t.messages.WithLabelValues("ok").Inc()
		return nil
	}
	t.messages.WithLabelValues("error").Inc()
	return classify(err)
}

// classify turns a gRPC status into a delivery outcome.
func classify(err error) error {
	st, _ := status.FromError(err)
	serr := &connector.StatusError{Code: int(st.Code()), Err: fmt.Errorf("publish: %s: %s", st.Code(), st.Message())}
	switch st.Code() {
	case codes.InvalidArgument, codes.PermissionDenied, codes.Unauthenticated, codes.NotFound,
		codes.Unimplemented, codes.FailedPrecondition, codes.OutOfRange, codes.AlreadyExists:
		return connector.Permanent(serr)
	}
	return serr
}

var _ connector.Target = (*Target)(nil)
