// Package httplimit bounds what one HTTP client can hold of the bridge: a
// deadline on reading each request's body, a cap on the requests one
// source serves at once, and the timeouts of every http.Server the bridge
// runs. A client that sends a byte every few seconds is cut at the
// deadline, and many of them fill one source's slots, not the listener.
package httplimit

import (
	"errors"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/api/problem"
)

// Defaults of the settings this package serves.
const (
	// DefaultReadTimeout bounds reading one request body.
	DefaultReadTimeout = 30 * time.Second
	// DefaultMaxConnections is how many requests one source serves at once.
	DefaultMaxConnections = 256
	// ReadHeaderTimeout bounds reading a request's headers.
	ReadHeaderTimeout = 10 * time.Second
	// IdleTimeout closes a keep-alive connection that sends nothing.
	IdleTimeout = 120 * time.Second
	// MaxHeaderBytes is the most header bytes a request may have (the
	// net/http default, set on purpose): beyond it the server answers 431.
	MaxHeaderBytes = 1 << 20
)

// NewServer returns an http.Server for h with the bridge's timeouts and a
// body deadline of readTimeout (none when 0).
func NewServer(h http.Handler, readTimeout time.Duration) *http.Server {
	return &http.Server{
		Handler:           BodyDeadline(h, readTimeout),
		ReadHeaderTimeout: ReadHeaderTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
	}
}

// BodyDeadline returns h with a deadline of d on reading each request's
// body, from when the handler starts. A body read past it fails with an
// error for which IsTimeout is true. Requests without a body get no
// deadline, and net/http does not apply a read deadline to the answer once
// the body is read, so storing events or streaming an answer may take
// longer. It is not http.Server.ReadTimeout, which would be the same for
// every source of the shared server.
func BodyDeadline(h http.Handler, d time.Duration) http.Handler {
	if d <= 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil && r.Body != http.NoBody {
			// A writer without deadlines (a test recorder) gets none.
			_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(d))
		}
		h.ServeHTTP(w, r)
	})
}

// IsTimeout reports whether err is a body read cut by the deadline.
func IsTimeout(err error) bool { return errors.Is(err, os.ErrDeadlineExceeded) }

// Limiter caps the requests a handler serves at once. It is safe for
// concurrent use.
type Limiter struct {
	sem     chan struct{}
	setting string
	held    atomic.Int64
	refused atomic.Int64
}

// NewLimiter returns a limiter of max requests at once; setting names the
// config field, for the answer beyond it.
func NewLimiter(max int, setting string) *Limiter {
	return &Limiter{sem: make(chan struct{}, max), setting: setting}
}

// InFlight is how many requests are being served.
func (l *Limiter) InFlight() int { return int(l.held.Load()) }

// Refused is how many requests were refused since the limiter was made.
func (l *Limiter) Refused() int { return int(l.refused.Load()) }

// Wrap returns h served by at most the limiter's number of requests at
// once. Beyond it, a request is answered at once with 503 and Retry-After,
// without reading its body, and its connection is closed.
func (l *Limiter) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case l.sem <- struct{}{}:
		default:
			l.refused.Add(1)
			// The server would read what is left of the body (up to
			// 256KiB) before closing: not from a slow client.
			_ = http.NewResponseController(w).SetReadDeadline(time.Now())
			w.Header().Set("Connection", "close")
			p := problem.New(problem.Busy, "this source serves "+strconv.Itoa(cap(l.sem))+" requests at once ("+l.setting+"); send again later")
			p.RetryAfter = 1
			p.Write(w, r)
			return
		}
		l.held.Add(1)
		defer func() {
			l.held.Add(-1)
			<-l.sem
		}()
		h.ServeHTTP(w, r)
	})
}
