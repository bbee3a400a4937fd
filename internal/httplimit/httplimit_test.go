package httplimit

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// serve starts h behind NewServer on a loopback port.
func serve(t *testing.T, h http.Handler, readTimeout time.Duration) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(h, readTimeout)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

// TestBodyDeadlineCutsSlowBody: a body that does not arrive within the
// deadline fails with a timeout the handler can tell.
func TestBodyDeadlineCutsSlowBody(t *testing.T) {
	got := make(chan error, 1)
	addr := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		got <- err
	}), 300*time.Millisecond)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Headers and 1 of 10 bytes, then nothing.
	if _, err := io.WriteString(conn, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n1"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-got:
		if !IsTimeout(err) {
			t.Fatalf("body read ended with %v, want a timeout", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the body read was not cut")
	}
}

// TestLimiter: beyond max requests at once, 503 with Retry-After and
// Connection: close, without reading the body; a slot frees when a
// request ends.
func TestLimiter(t *testing.T) {
	l := NewLimiter(2, "max_connections")
	release := make(chan struct{})
	entered := make(chan struct{}, 2)
	addr := serve(t, l.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release
	})), time.Minute)
	done := make(chan struct{})
	for i := 0; i < 2; i++ {
		go func() {
			defer func() { done <- struct{}{} }()
			if resp, err := http.Get("http://" + addr); err == nil {
				resp.Body.Close()
			}
		}()
	}
	<-entered
	<-entered
	if l.InFlight() != 2 {
		t.Fatalf("%d in flight, want 2", l.InFlight())
	}
	// A third, with a body it never finishes: answered at once.
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, _ = io.WriteString(conn, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "1" || !resp.Close {
		t.Errorf("status %d, Retry-After %q, close %v", resp.StatusCode, resp.Header.Get("Retry-After"), resp.Close)
	}
	if l.Refused() != 1 {
		t.Errorf("%d refused", l.Refused())
	}
	close(release)
	<-done
	<-done
	w := httptest.NewRecorder()
	l.Wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})).ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if w.Code != 200 || l.InFlight() != 0 {
		t.Errorf("after the others: status %d, %d in flight", w.Code, l.InFlight())
	}
}
