package server_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// slowClient opens a connection to addr and sends a binary-mode event
// whose body it dribbles, one byte every 100ms, until the connection
// fails or ctx ends. It returns the status the bridge answered (0 for
// none) once the connection is closed.
func slowClient(ctx context.Context, addr string, open *atomic.Int64) int {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return 0
	}
	defer conn.Close()
	head := "POST /events HTTP/1.1\r\nHost: bridge\r\nContent-Type: application/json\r\n" +
		"ce-specversion: 1.0\r\nce-id: slow\r\nce-source: /slow\r\nce-type: t\r\nContent-Length: 1000\r\n\r\n"
	if _, err := io.WriteString(conn, head); err != nil {
		return 0
	}
	open.Add(1)
	defer open.Add(-1)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				_ = conn.Close()
				return
			case <-tick.C:
				if _, err := conn.Write([]byte("1")); err != nil {
					return
				}
			}
		}
	}()
	_ = conn.SetReadDeadline(time.Now().Add(60 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestSlowClients: 50 clients that send a body one byte at a time hold at
// most max_connections of the source, are answered 503 beyond it, are cut
// after read_timeout, and /healthz and the API answer all along. The
// read_timeout is 10s so that a busy machine sees the source full before
// the slow clients are cut (2s was too short once in CI).
func TestSlowClients(t *testing.T) {
	const clients, maxConns = 50, 8
	b := startBridge(t, yamlf(`
sources: {in: {type: http, path: /events, max_connections: %d, read_timeout: 10s}}
targets: {out: {type: log}}
rules: {all: {targets: [out]}}
`, maxConns))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var open atomic.Int64
	var mu sync.Mutex
	statuses := map[int]int{}
	var wg sync.WaitGroup
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code := slowClient(ctx, b.Addr(), &open)
			mu.Lock()
			statuses[code]++
			mu.Unlock()
		}()
	}
	// Wait until every slow client beyond max_connections has been refused,
	// so that the others hold every slot: an event sent earlier could take
	// a slot for a moment and leave one slow client refused in its place.
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		refused := statuses[http.StatusServiceUnavailable]
		mu.Unlock()
		if refused >= clients-maxConns {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d slow clients refused while the source should be full", refused, clients-maxConns)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The source is full: an ordinary event is refused at once.
	deadline = time.Now().Add(30 * time.Second)
	for code := 0; code != http.StatusServiceUnavailable; code = sendEvent(t, b, "/events", "/fast", "fast", "t") {
		if time.Now().After(deadline) {
			t.Fatalf("the source never refused an event while %d slow clients were open (last status %d)", open.Load(), code)
		}
	}
	// While slow clients still hold the source, health and the API answer.
	for _, path := range []string{"/healthz", "/v1/loggers"} {
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Get("http://" + b.Addr() + path)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: status %d", path, resp.StatusCode)
		}
	}
	if n := open.Load(); n == 0 {
		t.Fatal("no slow client was open any more when health and the API answered")
	} else {
		t.Logf("%d slow connections open while /healthz and /v1/loggers answered", n)
	}
	wg.Wait() // each ends when the bridge closes its connection
	if ctx.Err() != nil {
		t.Fatal("slow clients were not cut within 60s")
	}
	t.Logf("answers to the %d slow clients: %v", clients, statuses)
	if statuses[http.StatusRequestTimeout] > maxConns || statuses[http.StatusRequestTimeout] == 0 {
		t.Errorf("%d slow clients cut by read_timeout, want 1..%d", statuses[http.StatusRequestTimeout], maxConns)
	}
	if got := statuses[http.StatusRequestTimeout] + statuses[http.StatusServiceUnavailable]; got != clients {
		t.Errorf("answers %v: want 408 or 503 for each of %d", statuses, clients)
	}
	// Once they are gone, the source takes events again.
	if code := sendEvent(t, b, "/events", "/fast", fmt.Sprint("after-", clients), "t"); code != http.StatusAccepted {
		t.Errorf("after the slow clients: status %d", code)
	}
}
