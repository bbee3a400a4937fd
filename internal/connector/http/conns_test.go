package http

import (
	"context"
	"net"
	nethttp "net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// TestTargetReusesConnections sends from many goroutines at once, to a
// server that answers some requests 503 with a page of text: every
// request after the first of each sender goes, nearly always, on a
// connection kept from before (the response bodies, error pages included,
// are read to their end; the idle pool holds as many connections as there
// are senders).
func TestTargetReusesConnections(t *testing.T) {
	const senders, each = 16, 20
	var conns, reqs atomic.Int64
	page := strings.Repeat("service unavailable ", 200) // 4 KB
	srv := httptest.NewUnstartedServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		if reqs.Add(1)%3 == 0 {
			w.WriteHeader(nethttp.StatusServiceUnavailable)
			_, _ = w.Write([]byte(page))
			return
		}
		w.WriteHeader(nethttp.StatusNoContent)
	}))
	srv.Config.ConnState = func(_ net.Conn, s nethttp.ConnState) {
		if s == nethttp.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close) // after the target's Stop (cleanups run last first)
	tg := startTarget(t, &TargetConfig{URL: srv.URL})
	e := testEvent()
	var wg sync.WaitGroup
	for range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				_ = tg.Send(context.Background(), e) // 503s are expected
			}
		}()
	}
	wg.Wait()
	if got := reqs.Load(); got != senders*each {
		t.Fatalf("%d requests reached the server, want %d", got, senders*each)
	}
	// A connection goes back to the idle pool just after its response is
	// read, so a sender's next request may now and then find none and
	// open one; a connection closed after each 503 made it 100 or more.
	if n := conns.Load(); n > 3*senders {
		t.Errorf("%d connections opened for %d senders and %d requests (a third of them 503): connections were not reused", n, senders, senders*each)
	}
}
