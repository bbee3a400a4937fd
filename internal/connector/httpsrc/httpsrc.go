// Package httpsrc has what the sources that receive over HTTP (http, and
// the webhook sources) share: the endpoint settings of their config, and
// serving their handler on the shared server or on a listener of their own.
package httpsrc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/httplimit"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

// Endpoint is where a source that receives over HTTP (http, and the
// webhook sources) is served and how it bounds each request. Source
// configs embed it with `yaml:",inline"`.
type Endpoint struct {
	// Path is where the source is mounted on the shared HTTP server (or
	// on its own listener).
	Path string `json:"path,omitempty"`
	// Listen gives the source its own listener (host:port) instead of the
	// shared server.
	Listen string `json:"listen,omitempty"`
	// Timeout bounds storing one request's events. Default 10s.
	Timeout spec.Duration `json:"timeout,omitempty"`
	// ReadTimeout bounds reading one request's body; a slower client is
	// answered 408 and cut. Default 30s.
	ReadTimeout spec.Duration `json:"read_timeout,omitempty"`
	// MaxConnections is how many requests the source serves at once;
	// beyond it, 503 with Retry-After. Default 256.
	MaxConnections int `json:"max_connections,omitempty"`
}

// FillHTTPDefaults sets unset fields; path is the type's default path.
func (e *Endpoint) FillHTTPDefaults(path string) {
	if e.Path == "" {
		e.Path = path
	}
	if e.Timeout == 0 {
		e.Timeout = spec.Duration(10 * time.Second)
	}
	if e.ReadTimeout == 0 {
		e.ReadTimeout = spec.Duration(httplimit.DefaultReadTimeout)
	}
	if e.MaxConnections == 0 {
		e.MaxConnections = httplimit.DefaultMaxConnections
	}
}

// ValidateHTTP reports problems under p.
func (e *Endpoint) ValidateHTTP(p spec.Problems) {
	if !strings.HasPrefix(e.Path, "/") {
		p.AddAt("path", "must start with /")
	}
	if strings.HasPrefix(e.Path, "/v1/") || e.Path == "/v1" || e.Path == "/metrics" || e.Path == "/healthz" || e.Path == "/readyz" {
		p.AddAt("path", "%s is reserved for the bridge's own API", e.Path)
	}
	if e.Listen != "" {
		if _, _, err := net.SplitHostPort(e.Listen); err != nil {
			p.AddAt("listen", "must be host:port: %v", err)
		}
	}
	if e.Timeout.D() <= 0 {
		p.AddAt("timeout", "must be positive")
	}
	if e.ReadTimeout.D() <= 0 {
		p.AddAt("read_timeout", "must be positive")
	}
	if e.MaxConnections < 1 {
		p.AddAt("max_connections", "must be at least 1")
	}
}

// MountPath is where the source lives on the shared server, for the
// duplicate-path check of the config ("" with its own listener).
func (e *Endpoint) MountPath() string {
	if e.Listen != "" {
		return ""
	}
	return e.Path
}

// Server serves a source's handler at its Endpoint: mounted on the
// shared server, or on a listener of its own, at most max_connections
// requests at once, each body read within read_timeout. A source embeds
// it as its Start, Stop and ServeHTTP.
type Server struct {
	name    string
	tr      *component.Tracker
	ep      *Endpoint
	shared  connector.Mounter
	limiter *httplimit.Limiter
	handler http.Handler
	unmount func()
	srv     *http.Server
}

// NewServer returns the server of the source named name, tracked in tr,
// serving ep (on shared unless ep has its own listener) with serve.
func NewServer(name string, tr *component.Tracker, ep *Endpoint, shared connector.Mounter, serve http.HandlerFunc) *Server {
	limit := ep.MaxConnections
	if limit < 1 { // an Endpoint without defaults (tests)
		limit = httplimit.DefaultMaxConnections
	}
	s := &Server{name: name, tr: tr, ep: ep, shared: shared, limiter: httplimit.NewLimiter(limit, "max_connections")}
	s.handler = s.limiter.Wrap(httplimit.BodyDeadline(serve, ep.ReadTimeout.D()))
	return s
}

// ServeHTTP serves one request, or answers 503 beyond max_connections.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// InFlight is how many requests are being served.
func (s *Server) InFlight() int { return s.limiter.InFlight() }

// Start serves the handler, tracking the source: Starting, then Running
// (with the details listen and path) or Failed.
func (s *Server) Start(ctx context.Context) error {
	s.tr.Set(component.Starting, nil)
	if err := s.serve(ctx); err != nil {
		s.tr.Set(component.Failed, err)
		return fmt.Errorf("source %s: %w", s.name, err)
	}
	s.tr.SetDetail("path", s.ep.Path)
	s.tr.Set(component.Running, nil)
	return nil
}

func (s *Server) serve(ctx context.Context) error {
	if s.ep.Listen == "" {
		if s.shared == nil {
			return errors.New("no shared HTTP server")
		}
		unmount, err := s.shared.Mount(s.ep.Path, s)
		s.unmount = unmount
		return err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.ep.Listen)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle(s.ep.Path, s)
	s.srv = httplimit.NewServer(mux, s.ep.ReadTimeout.D())
	go func() { _ = s.srv.Serve(ln) }()
	s.tr.SetDetail("listen", ln.Addr().String())
	return nil
}

// Stop unmounts the handler (or shuts its listener down, waiting for
// requests in flight within ctx), tracking Stopping then Terminated.
func (s *Server) Stop(ctx context.Context) error {
	s.tr.Set(component.Stopping, nil)
	if s.unmount != nil {
		s.unmount()
		s.unmount = nil
	}
	if s.srv != nil {
		_ = s.srv.Shutdown(ctx)
		s.srv = nil
	}
	s.tr.Set(component.Terminated, nil)
	return nil
}
