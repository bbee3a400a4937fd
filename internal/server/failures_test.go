package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

// A target that is down for 30 s: every event arrives after it returns,
// none is dead-lettered.
func TestTargetDown30s(t *testing.T) {
	if testing.Short() {
		t.Skip("takes 30s")
	}
	sink := testkit.NewSink(t)
	b := startBridge(t, yamlf(`
sources: {in: {type: http, path: /events}}
targets: {out: {type: http, url: %q, timeout: 2s}}
rules: {all: {targets: [out], delivery: {max_attempts: 50, backoff: {initial: 200ms, max: 3s}}}}
`, sink.URL))
	sink.Down()
	const n = 500
	start := time.Now()
	for i := 0; i < n; i++ {
		mustSend(t, b, fmt.Sprintf("e%d", i))
		if i%50 == 0 {
			time.Sleep(200 * time.Millisecond) // spread the events over a few seconds of the outage
		}
	}
	time.Sleep(30*time.Second - time.Since(start))
	if got := sink.Count(); got != 0 {
		t.Fatalf("sink got %d events while down", got)
	}
	sink.Up(t)
	testkit.Eventually(t, 30*time.Second, func() bool { return sink.Distinct() == n }, "after the outage the sink got %d of %d", sink.Distinct(), n)
	if got := streamMsgs(t, b, bus.StreamDLQ); got != 0 {
		t.Fatalf("%d events dead-lettered", got)
	}
	if retries := deliveries(b, "all", "out", "retry"); retries < n {
		t.Errorf("retries = %v, want at least %d (one per event)", retries, n)
	}
	testkit.Eventually(t, 10*time.Second, func() bool { return streamMsgs(t, b, bus.StreamRetry) == 0 }, "RETRY not drained")
}

// A target that always answers 400: every event is in the DLQ, with the
// status and the reason, after one attempt.
func TestTargetAlways400GoesToDLQ(t *testing.T) {
	sink := testkit.NewSink(t)
	sink.SetStatus(func(int64) int { return http.StatusBadRequest })
	b := startForwarder(t, sink.URL)
	const n = 25
	for i := 0; i < n; i++ {
		mustSend(t, b, fmt.Sprintf("e%d", i))
	}
	testkit.Eventually(t, 10*time.Second, func() bool { return streamMsgs(t, b, bus.StreamDLQ) == n }, "DLQ holds %d, want %d", streamMsgs(t, b, bus.StreamDLQ), n)
	if got := sink.Attempts(); got != n {
		t.Errorf("%d attempts for %d events: a 400 must not be retried", got, n)
	}
	ids := map[string]bool{}
	for _, m := range dlqMessages(t, b, "all", "out") {
		h := m.Header
		if h.Get(bus.HdrLastStatus) != "400" || h.Get(bus.HdrReason) != "permanent" || h.Get(bus.HdrAttempts) != "1" ||
			h.Get(bus.HdrRule) != "all" || h.Get(bus.HdrTarget) != "out" || !strings.Contains(h.Get(bus.HdrLastError), "400") {
			t.Errorf("DLQ headers = %v", h)
		}
		ev, err := bus.DecodeEvent(m.Data)
		if err != nil {
			t.Fatalf("DLQ body: %v", err)
		}
		ids[ev.ID()] = true
	}
	if len(ids) != n {
		t.Fatalf("DLQ has %d distinct events, want %d", len(ids), n)
	}
	if got := deliveries(b, "all", "out", "dead_lettered"); got != n {
		t.Errorf("dead_lettered metric = %v", got)
	}
}

// Retries exhausted: after max_attempts the event goes to DLQ as exhausted.
func TestRetriesExhaustedGoToDLQ(t *testing.T) {
	sink := testkit.NewSink(t)
	sink.SetStatus(func(int64) int { return http.StatusInternalServerError })
	b := startBridge(t, yamlf(`
sources: {in: {type: http, path: /events}}
targets: {out: {type: http, url: %q}}
rules: {all: {targets: [out], delivery: {max_attempts: 3, backoff: {initial: 10ms, max: 20ms}}}}
`, sink.URL))
	mustSend(t, b, "x")
	testkit.Eventually(t, 10*time.Second, func() bool { return streamMsgs(t, b, bus.StreamDLQ) == 1 }, "not dead-lettered")
	m := dlqMessages(t, b, "all", "out")[0]
	if m.Header.Get(bus.HdrReason) != "exhausted" || m.Header.Get(bus.HdrAttempts) != "3" || m.Header.Get(bus.HdrLastStatus) != "500" {
		t.Fatalf("DLQ headers = %v", m.Header)
	}
	if sink.Attempts() != 3 {
		t.Fatalf("attempts = %d, want 3", sink.Attempts())
	}
}

// 429 with Retry-After is honoured, whatever the backoff says.
func TestRetryAfterHonoured(t *testing.T) {
	sink := testkit.NewSink(t)
	sink.SetHeader("Retry-After", "1")
	sink.SetStatus(func(n int64) int {
		if n == 1 {
			return http.StatusTooManyRequests
		}
		return http.StatusOK
	})
	b := startBridge(t, yamlf(`
sources: {in: {type: http, path: /events}}
targets: {out: {type: http, url: %q}}
rules: {all: {targets: [out], delivery: {backoff: {initial: 10ms, max: 10ms}}}}
`, sink.URL))
	mustSend(t, b, "x")
	testkit.Eventually(t, 10*time.Second, func() bool { return sink.Count() == 1 }, "not delivered")
	times := sink.Times()
	if gap := times[1].Sub(times[0]); gap < 900*time.Millisecond {
		t.Fatalf("second attempt %s after the 429, want about 1s (Retry-After)", gap)
	}
}
