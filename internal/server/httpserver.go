package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
	"sync"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/api/problem"
	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/httplimit"
)

// mux is the shared HTTP server's handler: fixed routes (API, health,
// metrics) plus the paths sources mount and unmount at run time.
type mux struct {
	base *http.ServeMux

	mu      sync.RWMutex
	mounted map[string]http.Handler
	owner   map[string]*int // who mounted each path, so unmount removes only its own
	// started is set once the bridge has started: before, a path no
	// route matches may be a source not mounted yet, answered 503.
	started func() bool
}

func newMux() *mux {
	return &mux{base: http.NewServeMux(), mounted: map[string]http.Handler{}, owner: map[string]*int{}}
}

// Mount implements connector.Mounter.
func (m *mux) Mount(path string, h http.Handler) (func(), error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, taken := m.mounted[path]; taken {
		return nil, fmt.Errorf("path %s is already mounted", path)
	}
	token := new(int)
	m.mounted[path], m.owner[path] = h, token
	return func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		if m.owner[path] == token {
			delete(m.mounted, path)
			delete(m.owner, path)
		}
	}, nil
}

func (m *mux) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.mu.RLock()
	h, ok := m.mounted[r.URL.Path]
	if !ok {
		for p, ph := range m.mounted {
			if strings.HasSuffix(p, "/") && strings.HasPrefix(r.URL.Path, p) {
				h, ok = ph, true
				break
			}
		}
	}
	m.mu.RUnlock()
	if ok {
		h.ServeHTTP(w, r)
		return
	}
	if h, pattern := m.base.Handler(r); pattern == "" {
		// No fixed route matches: h is ServeMux's plain-text 404 or 405.
		// Let it decide which (it knows the methods each path has and
		// sets Allow), then answer with a problem document instead.
		var probe statusProbe
		h.ServeHTTP(&probe, r)
		if probe.status == http.StatusMethodNotAllowed {
			allow := probe.header.Get("Allow")
			w.Header().Set("Allow", allow)
			problem.Write(w, r, problem.MethodNotAllowed, r.Method+" is not served at "+r.URL.Path+"; use "+allow)
			return
		}
		if m.started != nil && !m.started() {
			// The sources are mounted during the start: a producer retries
			// a 503 (behind a load balancer, on another replica) but
			// may drop the event on a 404.
			p := problem.New(problem.Unavailable, "the bridge is starting: no source at "+r.URL.Path+" yet")
			p.RetryAfter = 1
			p.Write(w, r)
			return
		}
		problem.Write(w, r, problem.NotFound, "no source or API route at "+r.URL.Path)
		return
	}
	m.base.ServeHTTP(w, r)
}

// statusProbe keeps the status and headers a handler answers with and
// drops its body.
type statusProbe struct {
	header http.Header
	status int
}

func (p *statusProbe) Header() http.Header {
	if p.header == nil {
		p.header = http.Header{}
	}
	return p.header
}

func (p *statusProbe) WriteHeader(status int) {
	if p.status == 0 {
		p.status = status
	}
}

func (p *statusProbe) Write(b []byte) (int, error) {
	p.WriteHeader(http.StatusOK)
	return len(b), nil
}

func mountPprof(m *http.ServeMux) {
	m.HandleFunc("/debug/pprof/", pprof.Index)
	m.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	m.HandleFunc("/debug/pprof/profile", pprof.Profile)
	m.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	m.HandleFunc("/debug/pprof/trace", pprof.Trace)
}

// httpServer is the shared listener.
type httpServer struct {
	srv *http.Server
	ln  net.Listener
	err chan error
}

// startHTTP serves h on addr; each request body must arrive within
// readTimeout.
func startHTTP(addr string, h http.Handler, tlsCfg *tls.Config, readTimeout time.Duration) (*httpServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("api: listen %s: %w", addr, err)
	}
	if tlsCfg != nil {
		ln = tls.NewListener(ln, tlsCfg)
	}
	s := &httpServer{
		srv: httplimit.NewServer(h, readTimeout),
		ln:  ln,
		err: make(chan error, 1),
	}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.err <- err
		}
	}()
	return s, nil
}

// shutdown stops accepting and waits for requests in flight.
func (s *httpServer) shutdown(ctx context.Context) error {
	return s.srv.Shutdown(ctx)
}

var _ connector.Mounter = (*mux)(nil)
