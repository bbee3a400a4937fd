package server_test

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
	"github.com/eventbridge-dev/eventbridge/internal/config"
	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

// Invariant 1: a producer is acknowledged only after its event is in the bus.
func TestInvariant1_AckOnlyAfterStored(t *testing.T) {
	sink := testkit.NewSink(t)
	b := startForwarder(t, sink.URL)
	for i := 0; i < 20; i++ {
		mustSend(t, b, fmt.Sprintf("e%d", i))
		// The 202 came back: the event must be in the archive already,
		// the one write of an embedded bus that listens on no port (WORK
		// is not written: LastSeq counts every write).
		if got := streamMsgs(t, b, bus.StreamEvents); got != uint64(i+1) {
			t.Fatalf("after %d accepted events, EVENTS holds %d", i+1, got)
		}
		if got := streamState(t, b, bus.StreamWork).LastSeq; got != 0 {
			t.Fatalf("after %d accepted events, WORK has had %d, want none (one write per event)", i+1, got)
		}
	}
	// With the bus gone, the source must refuse, not acknowledge.
	b.Bus().Close()
	if code := sendEvent(t, b, "/events", "/test", "lost", "com.example.test"); code != http.StatusServiceUnavailable {
		t.Fatalf("send with the bus closed: status %d, want 503", code)
	}
}

// Invariant 2: an event is settled only when every matched rule delivered
// it or queued it durably in RETRY or DLQ; the archive (EVENTS) keeps it
// either way. An embedded bridge routes from ingest, writes no WORK, and
// its checkpoint of the archive passes an event only once settled: no
// consumer, no per-event acknowledgement (a cluster's router acks WORK,
// see internal/router tests).
func TestInvariant2_AckWhenEveryRouteSettled(t *testing.T) {
	fast, blocked, failing := testkit.NewSink(t), testkit.NewSink(t), testkit.NewSink(t)
	blocked.Block()
	failing.SetStatus(func(int64) int { return http.StatusServiceUnavailable })
	b := startBridge(t, yamlf(`
sources: {in: {type: http, path: /events}}
targets:
  fast: {type: http, url: %q}
  blocked: {type: http, url: %q}
  failing: {type: http, url: %q}
rules:
  a: {targets: [fast, blocked]}
  b: {targets: [failing], delivery: {backoff: {initial: 1h, max: 1h}}}
`, fast.URL, blocked.URL, failing.URL))
	mustSend(t, b, "one")
	testkit.Eventually(t, 5*time.Second, func() bool { return fast.Count() == 1 }, "fast target never got the event")
	testkit.Eventually(t, 5*time.Second, func() bool { return streamMsgs(t, b, bus.StreamRetry) == 1 }, "the failing route did not queue a retry")
	// The blocked route has not settled: the checkpoint stays below the
	// event, past several saves.
	seq := streamState(t, b, bus.StreamEvents).LastSeq
	testkit.Never(t, 3*time.Second, func() bool { return routerCheckpoint(t, b) >= seq },
		"the checkpoint passed the event while a route still held it")
	if routerExists(t, b) {
		t.Fatal("an embedded bridge's WORK has the router's consumer: want none")
	}
	if got := streamState(t, b, bus.StreamWork).LastSeq; got != 0 {
		t.Fatalf("WORK has had %d messages, want none", got)
	}
	blocked.Open()
	testkit.Eventually(t, 5*time.Second, func() bool { return blocked.Count() == 1 }, "blocked target never got the event")
	testkit.Eventually(t, 10*time.Second, func() bool { return routerCheckpoint(t, b) >= seq }, "the checkpoint stayed below the routed event")
	if got := streamMsgs(t, b, bus.StreamEvents); got != 1 {
		t.Fatalf("the archive holds %d events after routing, want 1", got)
	}
}

// Invariant 3: duplicate ingest of the same (source, id) inside the dedup
// window is stored once.
func TestInvariant3_DuplicatesStoredOnce(t *testing.T) {
	sink := testkit.NewSink(t)
	b := startForwarder(t, sink.URL)
	for i := 0; i < 3; i++ {
		mustSend(t, b, "same-id")
	}
	// Same id from another CloudEvents source is a different event.
	if code := sendEvent(t, b, "/events", "/other", "same-id", "com.example.test"); code != http.StatusAccepted {
		t.Fatalf("status %d", code)
	}
	if got := streamMsgs(t, b, bus.StreamEvents); got != 2 {
		t.Fatalf("EVENTS holds %d messages, want 2", got)
	}
	if got := streamState(t, b, bus.StreamWork).LastSeq; got != 0 {
		t.Fatalf("WORK has had %d messages, want none (one write per event)", got)
	}
	testkit.Eventually(t, 5*time.Second, func() bool { return sink.Count() == 2 }, "sink got %d, want 2", sink.Count())
	testkit.Never(t, 300*time.Millisecond, func() bool { return sink.Count() > 2 }, "a duplicate was delivered")
	if d := testutil.ToFloat64(b.Metrics().Duplicates.WithLabelValues("in")); d != 2 {
		t.Fatalf("duplicates metric = %v, want 2", d)
	}
}

// Invariant 4: a slow or failing target never stalls other rules; its
// queue is bounded and what overflows waits on disk.
func TestInvariant4_SlowTargetDoesNotStallOthers(t *testing.T) {
	slow, fast := testkit.NewSink(t), testkit.NewSink(t)
	slow.Block()
	b := startBridge(t, yamlf(`
sources: {in: {type: http, path: /events}}
targets:
  slow: {type: http, url: %q}
  fast: {type: http, url: %q}
rules:
  to-slow: {targets: [slow], delivery: {queue_size: 4, concurrency: 2}}
  to-fast: {targets: [fast]}
`, slow.URL, fast.URL))
	const n = 300
	for i := 0; i < n; i++ {
		mustSend(t, b, fmt.Sprintf("e%d", i))
	}
	testkit.Eventually(t, 20*time.Second, func() bool { return fast.Count() == n }, "fast rule stalled: %d of %d", fast.Count(), n)
	// The slow route holds at most queue+workers in memory; the rest is in RETRY.
	testkit.Eventually(t, 5*time.Second, func() bool { return deliveries(b, "to-slow", "slow", "overflow") >= n-6 },
		"overflow = %v, want at least %d", deliveries(b, "to-slow", "slow", "overflow"), n-6)
	testkit.Eventually(t, 5*time.Second, func() bool { return streamMsgs(t, b, bus.StreamRetry) >= n-7 }, "overflow not on disk")
	slow.Open()
	testkit.Eventually(t, 30*time.Second, func() bool { return slow.Distinct() == n }, "slow target got %d of %d after it recovered", slow.Distinct(), n)
	testkit.Eventually(t, 10*time.Second, func() bool { return streamMsgs(t, b, bus.StreamRetry) == 0 }, "RETRY not drained")
	// The checkpoint stays below the oldest event not settled: once the
	// slow route has settled what it held, it reaches the archive's end.
	testkit.Eventually(t, 10*time.Second, func() bool { return routerCheckpoint(t, b) == streamState(t, b, bus.StreamEvents).LastSeq },
		"checkpoint %d", routerCheckpoint(t, b))
}

// Invariant 5: every delivery attempt, success or failure, is counted with
// the rule and target.
func TestInvariant5_EveryAttemptCounted(t *testing.T) {
	flaky, bad := testkit.NewSink(t), testkit.NewSink(t)
	flaky.SetStatus(func(n int64) int {
		if n <= 3 {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	bad.SetStatus(func(int64) int { return http.StatusBadRequest })
	b := startBridge(t, yamlf(`
sources: {in: {type: http, path: /events}}
targets:
  flaky: {type: http, url: %q}
  bad: {type: http, url: %q}
rules:
  r: {targets: [flaky, bad], delivery: {backoff: {initial: 20ms, max: 50ms}}}
`, flaky.URL, bad.URL))
	mustSend(t, b, "x")
	testkit.Eventually(t, 10*time.Second, func() bool { return deliveries(b, "r", "flaky", "delivered") == 1 }, "never delivered")
	testkit.Eventually(t, 5*time.Second, func() bool { return deliveries(b, "r", "bad", "dead_lettered") == 1 }, "bad target not dead-lettered")
	if got := deliveries(b, "r", "flaky", "retry"); got != 3 {
		t.Errorf("retry count = %v, want 3", got)
	}
	if got := deliveries(b, "r", "flaky", "delivered"); got != 1 {
		t.Errorf("delivered count = %v, want 1", got)
	}
	if got := flaky.Attempts(); got != 4 {
		t.Errorf("flaky target saw %d attempts, want 4", got)
	}
	if got := testutil.CollectAndCount(b.Metrics().Attempt); got != 2 {
		t.Errorf("attempt histogram has %d series, want 2 (one per route)", got)
	}
	hist := testutil.ToFloat64(b.Metrics().Matched.WithLabelValues("r"))
	if hist != 1 {
		t.Errorf("matched = %v, want 1", hist)
	}
}

// A router that keeps up on an embedded bus writes no WORK at all: no
// block of it is made, let alone replaced per event (when WORK was written
// and trimmed, an emptied newest block was replaced by a new file).
func TestWorkBlocksNotChurnedWhenRouterKeepsUp(t *testing.T) {
	sink := testkit.NewSink(t)
	b := startForwarder(t, sink.URL)
	const n = 100
	for i := range n {
		mustSend(t, b, fmt.Sprintf("e%d", i))
		testkit.Eventually(t, 5*time.Second, func() bool { return sink.Count() == i+1 }, "event %d not delivered", i)
	}
	dir := filepath.Join(b.Bus().Config().DataDir, "jetstream", "$G", "streams", bus.StreamWork, "msgs")
	blocks, _ := filepath.Glob(filepath.Join(dir, "*.blk"))
	newest := 0
	for _, p := range blocks {
		if i, err := strconv.Atoi(strings.TrimSuffix(filepath.Base(p), ".blk")); err == nil && i > newest {
			newest = i
		}
	}
	if newest > 1 {
		t.Fatalf("WORK's newest block is number %d after %d events delivered one by one: want WORK unwritten", newest, n)
	}
	if got := streamState(t, b, bus.StreamWork).LastSeq; got != 0 {
		t.Fatalf("WORK has had %d messages, want none", got)
	}
}

// Invariant 3 across a restart: an event routed (and so gone from WORK)
// before the bridge stopped is still a duplicate when sent again inside
// the window after it started again.
func TestInvariant3_DuplicatesStoredOnceAcrossRestart(t *testing.T) {
	sink := testkit.NewSink(t)
	cfg, err := config.Parse([]byte(yamlf(`
sources: {in: {type: http, path: /events}}
targets: {out: {type: http, url: %q}}
rules: {all: {targets: [out]}}
lifecycle: {disabled: true}
`, sink.URL)))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Bus.DataDir = t.TempDir()
	cfg.API.Listen = "127.0.0.1:0"
	b := startBridgeConfig(t, cfg)
	mustSend(t, b, "before")
	testkit.Eventually(t, 5*time.Second, func() bool { return sink.Count() == 1 }, "not delivered")
	testkit.Eventually(t, 5*time.Second, func() bool { return routerCheckpoint(t, b) == 1 }, "the event not settled")
	if err := stopBridge(b); err != nil {
		t.Fatal(err)
	}
	b2 := startBridgeConfig(t, cfg)
	mustSend(t, b2, "before")
	mustSend(t, b2, "after")
	testkit.Eventually(t, 5*time.Second, func() bool { return sink.Count() >= 2 }, "the new event was not delivered")
	testkit.Never(t, 300*time.Millisecond, func() bool { return sink.Count() > 2 }, "the duplicate was delivered again after the restart")
	if got := streamMsgs(t, b2, bus.StreamEvents); got != 2 {
		t.Fatalf("EVENTS holds %d messages, want 2", got)
	}
}
