package server_test

import (
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

// rate_limit and circuit_breaker are settings of every target kind,
// enforced by delivery: a nats target (on the machine's NATS server,
// EVENTBRIDGE_NATS_URL, default nats://127.0.0.1:4222) receives events at
// its rate, and its breaker state shows in its health.
func TestTargetRateLimitOnANatsTarget(t *testing.T) {
	url := os.Getenv("EVENTBRIDGE_NATS_URL")
	if url == "" {
		url = "nats://127.0.0.1:4222"
	}
	nc, err := nats.Connect(url, nats.Timeout(2*time.Second))
	if err != nil {
		if os.Getenv("EVENTBRIDGE_INTEGRATION") == "1" {
			t.Fatalf("NATS at %s: %v", url, err)
		}
		t.Skipf("no NATS at %s: %v", url, err)
	}
	t.Cleanup(nc.Close)
	subject := "ebtest.ratelimit." + strconv.FormatInt(time.Now().UnixNano(), 10)
	var mu sync.Mutex
	var arrivals []time.Time
	sub, err := nc.Subscribe(subject, func(*nats.Msg) {
		mu.Lock()
		arrivals = append(arrivals, time.Now())
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}

	b := startBridge(t, yamlf(`
sources: {in: {type: http, path: /events}}
targets:
  out:
    type: nats
    url: %q
    subject: %q
    rate_limit: {per_second: 10, burst: 1}
    circuit_breaker: {failures: 3, open_for: 1m}
rules: {all: {targets: [out]}}
`, url, subject))
	const n = 6
	for i := range n {
		mustSend(t, b, "rl-"+strconv.Itoa(i))
	}
	got := func() []time.Time {
		mu.Lock()
		defer mu.Unlock()
		return append([]time.Time(nil), arrivals...)
	}
	testkit.Eventually(t, 30*time.Second, func() bool { return len(got()) == n }, "not every event reached the nats target")
	a := got()
	// 6 events at 10/s past a burst of 1: at least 5 × 100ms apart.
	if spread := a[n-1].Sub(a[0]); spread < 450*time.Millisecond {
		t.Errorf("%d events reached the target within %s; rate_limit 10/s wants at least 500ms", n, spread)
	}
	if d := deliveries(b, "all", "out", "delivered"); d != n {
		t.Errorf("%v delivered, want %d", d, n)
	}
	h, ok := b.Health().Components["target/out"]
	if !ok || h.Detail["circuit"] != "closed" {
		t.Errorf("target/out health %+v, want detail circuit closed", h)
	}
}
