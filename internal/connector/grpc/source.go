package grpc

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/cloudevents/sdk-go/binding/format/protobuf/v2/pb"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/intake"
	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
	"github.com/eventbridge-dev/eventbridge/internal/telemetry"
	"github.com/eventbridge-dev/eventbridge/pkg/cepb"
	csgrpc "github.com/eventbridge-dev/eventbridge/pkg/cloudsync/grpc"
)

// Source serves the CloudEventService. Publish returns once the event is
// stored (at-least-once: a client that gets an error publishes again);
// an invalid event is refused with InvalidArgument and the bad fields.
// Subscribe streams the events this source stores from then on.
type Source struct {
	cepb.UnimplementedCloudEventServiceServer

	name string
	cfg  *SourceConfig
	deps connector.Deps
	log  *slog.Logger
	// fails logs stores that fail for another reason than a bus outage
	// (which the bus logs) once per change of state, not per call.
	fails *intake.Failures

	mu  sync.Mutex
	srv *grpc.Server
	tap *tap
	wg  sync.WaitGroup

	broker *brokerState // nil unless broker mode

	received prometheus.Counter
	rejected *prometheus.CounterVec
	in, out  *prometheus.CounterVec // outcome
	conn     prometheus.Gauge
	links    prometheus.Gauge

	component.Tracker
}

func newSource(name string, c connector.Config, deps connector.Deps) (connector.Source, error) {
	cfg := c.(*SourceConfig)
	if deps.Metrics == nil {
		deps.Metrics = telemetry.NewMetrics()
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	m := deps.Metrics
	s := &Source{name: name, cfg: cfg, deps: deps, log: deps.Logger.With("connector", name, "type", "grpc"),
		received: m.Received.WithLabelValues(name),
		rejected: m.Rejected.MustCurryWith(prometheus.Labels{"source": name}),
		in:       m.ConnMessages.MustCurryWith(prometheus.Labels{"connector": name, "type": "grpc", "direction": "in"}),
		out:      m.ConnMessages.MustCurryWith(prometheus.Labels{"connector": name, "type": "grpc", "direction": "out"}),
		conn:     m.ConnConnected.WithLabelValues(name, "grpc"),
		links:    m.ConnLinks.WithLabelValues(name, "grpc", "sender"),
	}
	s.fails = intake.NewFailures(s.log, "the publisher is answered Unavailable and publishes them again")
	if cfg.Broker.Enabled {
		s.broker = newBrokerState(name, &cfg.Broker, deps.Jobs)
	}
	s.Set(component.New, nil)
	return s, nil
}

// Start listens and serves. It fails when the address cannot be bound.
func (s *Source) Start(context.Context) error {
	s.Set(component.Starting, nil)
	opts := []grpc.ServerOption{
		grpc.MaxRecvMsgSize(int(s.cfg.MaxMessageSize)),
		grpc.UnaryInterceptor(s.authUnary),
		grpc.StreamInterceptor(s.authStream),
	}
	if s.cfg.TLS.CertFile != "" {
		tc, err := s.cfg.TLS.config()
		if err != nil {
			s.Set(component.Failed, err)
			return fmt.Errorf("source %s: %w", s.name, err)
		}
		opts = append(opts, grpc.Creds(credentials.NewTLS(tc)))
	}
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		s.Set(component.Failed, err)
		return fmt.Errorf("source %s: %w", s.name, err)
	}
	srv := grpc.NewServer(opts...)
	cepb.RegisterCloudEventServiceServer(srv, s)
	if s.cfg.Reflection {
		reflection.Register(srv)
	}
	s.mu.Lock()
	s.srv, s.tap = srv, &tap{}
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := srv.Serve(ln); err != nil {
			s.log.Error("gRPC server stopped", "err", err)
			s.Set(component.Failed, err)
		}
	}()
	s.conn.Set(1)
	s.SetDetail("listen", ln.Addr().String())
	s.SetDetail("connected", true)
	s.Set(component.Running, nil)
	return nil
}

// Stop ends the Subscribe streams and lets Publish calls in flight finish
// within ctx.
func (s *Source) Stop(ctx context.Context) error {
	s.Set(component.Stopping, nil)
	s.mu.Lock()
	srv, tp := s.srv, s.tap
	s.srv = nil
	s.mu.Unlock()
	if srv != nil {
		tp.close()
		done := make(chan struct{})
		go func() { srv.GracefulStop(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			srv.Stop()
			<-done
		}
		s.wg.Wait()
	}
	s.conn.Set(0)
	s.SetDetail("connected", false)
	s.Set(component.Terminated, nil)
	return nil
}

// Publish implements the service: it stores the event, then returns.
// In broker mode a spec resync request is answered by the source itself
// and is not stored.
func (s *Source) Publish(ctx context.Context, req *cepb.PublishRequest) (*emptypb.Empty, error) {
	s.received.Inc()
	if s.broker != nil && req.GetEvent() != nil {
		// open-cluster-management's binding keys attributes "ce-<name>".
		csgrpc.FromOCMAttributes(req.Event)
	}
	e, err := FromProto(req.GetEvent())
	if err != nil {
		s.in.WithLabelValues("invalid").Inc()
		s.rejected.WithLabelValues("invalid").Inc()
		return nil, invalidStatus(err)
	}
	if err := s.cfg.CheckExtensions(e); err != nil {
		s.in.WithLabelValues("invalid").Inc()
		s.rejected.WithLabelValues("extensions").Inc()
		return nil, limitStatus(err)
	}
	if s.broker != nil {
		if err := s.publishBroker(ctx, e); err != nil {
			return nil, err
		}
		return &emptypb.Empty{}, nil
	}
	if err := s.ingest(ctx, e); err != nil {
		return nil, err
	}
	s.fanout([]*ce.Event{e})
	return &emptypb.Empty{}, nil
}

// ingest stores one event; its error is a gRPC status.
func (s *Source) ingest(ctx context.Context, e *ce.Event) error {
	ictx, cancel := context.WithTimeout(ctx, s.cfg.Timeout.D())
	defer cancel()
	if err := s.deps.Ingest.Ingest(ictx, s.name, []*ce.Event{e}); err != nil {
		s.in.WithLabelValues("error").Inc()
		s.rejected.WithLabelValues("unavailable").Inc()
		if !bus.IsUnavailable(err) { // an outage of the bus is logged once, by the bus
			s.fails.Failed(1, err)
		}
		return status.Error(codes.Unavailable, "the event was not stored; publish it again")
	}
	s.fails.Stored()
	s.in.WithLabelValues("ok").Inc()
	return nil
}

// fanout hands events to the Subscribe streams.
func (s *Source) fanout(events []*ce.Event) {
	s.mu.Lock()
	tp := s.tap
	s.mu.Unlock()
	if tp != nil && len(events) > 0 {
		sent, dropped := tp.publish(events)
		s.out.WithLabelValues("ok").Add(float64(sent))
		s.out.WithLabelValues("error").Add(float64(dropped))
	}
}

// Subscribe implements the service: a live tap of what this source
// stores. In broker mode it needs a data type and a cluster name (agents)
// or a source (sources), streams what the broker routes to the
// subscriber, and sends heartbeats.
func (s *Source) Subscribe(req *cepb.SubscriptionRequest, stream grpc.ServerStreamingServer[pb.CloudEvent]) error {
	if s.cfg.DisableSubscribe {
		return status.Error(codes.Unimplemented, "Subscribe is disabled on this source")
	}
	var bs *brokerSub
	if s.broker != nil {
		var err error
		if bs, err = parseSubscription(req); err != nil {
			return err
		}
	}
	s.mu.Lock()
	tp := s.tap
	s.mu.Unlock()
	var sub *subscriber
	if tp != nil {
		sub = tp.add(req, bs, s.cfg.SubscribeBuffer)
	}
	if sub == nil {
		return status.Error(codes.Unavailable, "the source is stopping")
	}
	defer tp.remove(sub)
	s.links.Inc()
	defer s.links.Dec()
	if err := stream.SendHeader(metadata.Pairs("subscription-id", uuid.NewString())); err != nil {
		return err
	}
	var beat <-chan time.Time
	if bs != nil && !s.cfg.Broker.DisableHeartbeat {
		tk := time.NewTicker(s.cfg.Broker.HeartbeatInterval.D())
		defer tk.Stop()
		beat = tk.C
	}
	for {
		select {
		case <-stream.Context().Done():
			return nil
		case <-sub.lost:
			return status.Error(codes.Unavailable, "the subscriber fell behind and missed events; subscribe again and resync")
		case <-beat:
			if err := stream.Send(heartbeat()); err != nil {
				return err
			}
		case p, ok := <-sub.ch:
			if !ok {
				return status.Error(codes.Unavailable, "the source stopped")
			}
			if err := stream.Send(p); err != nil {
				return err
			}
		}
	}
}

// invalidStatus is InvalidArgument with a BadRequest detail per bad field.
func invalidStatus(err error) error {
	st := status.New(codes.InvalidArgument, "not a valid CloudEvent: "+err.Error())
	br := &errdetails.BadRequest{}
	for _, f := range ebevent.Fields(err) {
		br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{Field: f.Field, Description: f.Reason})
	}
	if d, derr := st.WithDetails(br); derr == nil {
		st = d
	}
	return st.Err()
}

// limitStatus is InvalidArgument with a BadRequest detail naming the
// setting an event is over (max_extensions or max_extension_size).
func limitStatus(err error) error {
	st := status.New(codes.InvalidArgument, err.Error())
	br := &errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: connector.LimitSetting(err), Description: err.Error()}}}
	if d, derr := st.WithDetails(br); derr == nil {
		st = d
	}
	return st.Err()
}

func (s *Source) authorized(ctx context.Context) error {
	if s.cfg.Token == "" {
		return nil
	}
	md, _ := metadata.FromIncomingContext(ctx)
	for _, v := range md.Get("authorization") {
		if tok, ok := strings.CutPrefix(v, "Bearer "); ok && subtle.ConstantTimeCompare([]byte(tok), []byte(s.cfg.Token.Value())) == 1 {
			return nil
		}
	}
	s.rejected.WithLabelValues("unauthorized").Inc()
	return status.Error(codes.Unauthenticated, "this source needs the authorization: Bearer <token> metadata")
}

func (s *Source) authUnary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	if err := s.authorized(ctx); err != nil {
		return nil, err
	}
	return h(ctx, req)
}

func (s *Source) authStream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	if err := s.authorized(ss.Context()); err != nil {
		return err
	}
	return h(srv, ss)
}

// config builds the server TLS configuration.
func (c *ServerTLS) config() (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("tls: server certificate: %w", err)
	}
	tc := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if c.ClientCAFile != "" {
		pem, err := os.ReadFile(c.ClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("tls.client_ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls.client_ca_file: no PEM certificates in %s", c.ClientCAFile)
		}
		tc.ClientCAs, tc.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	return tc, nil
}

var (
	_ connector.Source             = (*Source)(nil)
	_ cepb.CloudEventServiceServer = (*Source)(nil)
)

// AnswersRequests marks a source that stays up while paused and refuses
// what is sent (connector.RequestSource).
func (s *Source) AnswersRequests() {}

var _ connector.RequestSource = (*Source)(nil)
