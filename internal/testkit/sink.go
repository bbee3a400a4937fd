// Package testkit has what tests of the bridge share: an HTTP sink that
// records CloudEvents and can be told to fail, be slow or block, and
// polling helpers. It is imported by tests only.
package testkit

import (
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Received is one request the sink got.
type Received struct {
	ID, Source, Type string
	Header           http.Header
	Body             []byte
	At               time.Time
}

// Sink is an HTTP server recording every request. Behaviour can be changed
// while it runs. Safe for concurrent use.
type Sink struct {
	// URL is the sink's base URL; it stays the same across Down and Up.
	URL  string
	addr string
	srv  *http.Server

	mu       sync.Mutex
	got      []Received
	ids      map[string]int
	status   func(n int64) int // nil: 200
	delay    time.Duration
	gate     chan struct{} // when non-nil, requests wait for it to close
	header   http.Header   // added to every response
	times    []time.Time   // arrival of every request
	attempts atomic.Int64
}

// NewSink starts a sink; it is closed when the test ends.
func NewSink(t testing.TB) *Sink {
	s := &Sink{ids: map[string]int{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	s.URL = "http://" + s.addr + "/"
	s.serveOn(ln)
	t.Cleanup(func() {
		s.Open()
		s.Down()
	})
	return s
}

func (s *Sink) serveOn(ln net.Listener) {
	srv := &http.Server{Handler: http.HandlerFunc(s.serve)}
	s.mu.Lock()
	s.srv = srv
	s.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
}

// Down closes the listener and every connection: the target is down
// (connection refused) until Up.
func (s *Sink) Down() {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	s.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

// Up listens again on the same address.
func (s *Sink) Up(t testing.TB) {
	var ln net.Listener
	var err error
	for i := 0; i < 100; i++ {
		if ln, err = net.Listen("tcp", s.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("sink up: %v", err)
	}
	s.serveOn(ln)
}

func (s *Sink) serve(w http.ResponseWriter, r *http.Request) {
	n := s.attempts.Add(1)
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	gate, delay, status := s.gate, s.delay, s.status
	s.times = append(s.times, time.Now())
	for k, v := range s.header {
		w.Header()[k] = v
	}
	s.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-r.Context().Done():
			return
		}
	}
	if delay > 0 {
		time.Sleep(delay)
	}
	code := http.StatusOK
	if status != nil {
		code = status(n)
	}
	if code/100 == 2 {
		rec := Received{ID: r.Header.Get("Ce-Id"), Source: r.Header.Get("Ce-Source"), Type: r.Header.Get("Ce-Type"), Header: r.Header.Clone(), Body: body, At: time.Now()}
		if strings.HasPrefix(r.Header.Get("Content-Type"), "application/cloudevents+json") {
			rec.ID, rec.Source, rec.Type = jsonField(body, "id"), jsonField(body, "source"), jsonField(body, "type")
		}
		s.mu.Lock()
		s.got = append(s.got, rec)
		s.ids[rec.Source+"\x00"+rec.ID]++
		s.mu.Unlock()
	}
	w.WriteHeader(code)
}

// SetStatus makes the sink answer status(n) to the n-th request (from 1).
func (s *Sink) SetStatus(f func(n int64) int) { s.mu.Lock(); s.status = f; s.mu.Unlock() }

// SetHeader adds a header to every response.
func (s *Sink) SetHeader(k, v string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.header == nil {
		s.header = http.Header{}
	}
	s.header.Set(k, v)
}

// Times returns when each request arrived.
func (s *Sink) Times() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.times...)
}

// SetDelay makes every request take d.
func (s *Sink) SetDelay(d time.Duration) { s.mu.Lock(); s.delay = d; s.mu.Unlock() }

// Block makes requests wait until Open is called.
func (s *Sink) Block() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gate == nil {
		s.gate = make(chan struct{})
	}
}

// Open releases blocked requests and stops blocking.
func (s *Sink) Open() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gate != nil {
		close(s.gate)
		s.gate = nil
	}
}

// Attempts is the number of requests received, whatever their answer.
func (s *Sink) Attempts() int64 { return s.attempts.Load() }

// Count is the number of events accepted (2xx), duplicates included.
func (s *Sink) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.got)
}

// Distinct is the number of distinct (source, id) pairs accepted.
func (s *Sink) Distinct() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.ids)
}

// Has reports whether an event with this source and id was accepted.
func (s *Sink) Has(source, id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ids[source+"\x00"+id] > 0
}

// Events returns a copy of what was accepted.
func (s *Sink) Events() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.got...)
}

func jsonField(body []byte, name string) string {
	key := `"` + name + `":"`
	i := strings.Index(string(body), key)
	if i < 0 {
		return ""
	}
	rest := string(body[i+len(key):])
	if j := strings.IndexByte(rest, '"'); j >= 0 {
		return rest[:j]
	}
	return ""
}
