package server_test

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/telemetry"
	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

// One event type matched by 1,000 rules, each with its own endpoint; ten
// endpoints refuse connections and ten never answer. Every healthy
// endpoint gets every event while the slow ones still hold their first
// request: a target holds up only its own routes.
func TestFanOutIsolation(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000 routes")
	}
	const n, events = 1000, 2
	isDead := func(i int) bool { return i%100 == 7 }
	isSlow := func(i int) bool { return i%100 == 42 }

	release := make(chan struct{})
	var slowBlocked atomic.Int32
	var mu sync.Mutex
	got := map[string]int{} // path → requests
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/slow/") {
			slowBlocked.Add(1)
			defer slowBlocked.Add(-1)
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return
		}
		mu.Lock()
		got[r.URL.Path]++
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)

	// A port nothing listens on: connections are refused.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()

	var sb strings.Builder
	sb.WriteString("sources: {in: {type: http, path: /events}}\ntargets:\n")
	for i := range n {
		switch {
		case isDead(i):
			fmt.Fprintf(&sb, "  t%04d: {type: http, url: \"http://%s/t%04d\"}\n", i, dead, i)
		case isSlow(i):
			fmt.Fprintf(&sb, "  t%04d: {type: http, url: \"%s/slow/t%04d\", timeout: 5m}\n", i, srv.URL, i)
		default:
			fmt.Fprintf(&sb, "  t%04d: {type: http, url: \"%s/ok/t%04d\"}\n", i, srv.URL, i)
		}
	}
	// One worker per route keeps 1,000 routes under the race detector's
	// goroutine limit; isolation does not come from spare workers.
	sb.WriteString("rules:\n")
	for i := range n {
		fmt.Fprintf(&sb, "  r%04d: {targets: [t%04d], filter: {pattern: {\"type\": [com.example.fanout]}}, delivery: {concurrency: 1}}\n", i, i)
	}
	start := time.Now()
	b := startBridge(t, sb.String())
	t.Cleanup(func() { close(release) }) // runs before the bridge stops
	t.Logf("started with %d rules in %s", n, time.Since(start).Round(time.Millisecond))

	start = time.Now()
	for e := range events {
		if code := sendEvent(t, b, "/events", "/fanout", fmt.Sprintf("f%d", e), "com.example.fanout"); code != http.StatusAccepted {
			t.Fatalf("send: %d", code)
		}
	}
	healthy := 0
	for i := range n {
		if !isDead(i) && !isSlow(i) {
			healthy++
		}
	}
	complete := func() int {
		mu.Lock()
		defer mu.Unlock()
		c := 0
		for _, k := range got {
			if k >= events {
				c++
			}
		}
		return c
	}
	testkit.Eventually(t, 90*time.Second, func() bool { return complete() == healthy },
		"%d of %d healthy endpoints got all %d events", complete(), healthy, events)
	took := time.Since(start)
	if s := slowBlocked.Load(); s != 10 {
		t.Errorf("%d slow endpoints hold a request, want 10", s)
	}
	for i := range n {
		if isDead(i) {
			r := fmt.Sprintf("r%04d", i)
			testkit.Eventually(t, 10*time.Second, func() bool {
				return deliveries(b, r, fmt.Sprintf("t%04d", i), telemetry.OutcomeRetry) > 0
			}, "route %s to a dead endpoint: no retry counted", r)
		}
	}
	t.Logf("%d healthy endpoints got %d events each in %s (%.0f deliveries/s) with 10 dead and 10 hung endpoints",
		healthy, events, took.Round(time.Millisecond), float64(healthy*events)/took.Seconds())
}
