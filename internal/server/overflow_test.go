package server_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
	"github.com/eventbridge-dev/eventbridge/internal/server"
	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

// A burst that overflows a slow route into RETRY reaches the target as soon
// as the route can take it: the overflow is due at once, so it must not wait
// for the RETRY consumer's ack_wait (30 s here) to be handed out again, and
// nothing fails, so nothing is delivered twice.
func TestOverflowDrainsWithoutWaitingForAckWait(t *testing.T) {
	const (
		n           = 3000
		delay       = 5 * time.Millisecond
		concurrency = 4
	)
	sink := testkit.NewSink(t)
	sink.SetDelay(delay)
	b := startBridge(t, yamlf(`
bus: {ack_wait: 2m}
sources: {in: {type: http, path: /events}}
targets: {slow: {type: http, url: %q}}
rules: {burst: {targets: [slow], delivery: {queue_size: 8, concurrency: %d}}}
`, sink.URL, concurrency))

	// Publish straight to the bus, in batches, so that the burst arrives far
	// faster than the target takes it.
	start := time.Now()
	for i := 0; i < n; i += 500 {
		publishTestEvents(t, b, i, min(i+500, n))
	}
	sent := time.Since(start)
	t.Logf("sent %d events in %v", n, sent.Round(time.Millisecond))
	// Most of the burst must go around the queue, through RETRY.
	testkit.Eventually(t, 10*time.Second, func() bool { return deliveries(b, "burst", "slow", "overflow") >= n/2 },
		"only %v of %d events overflowed into RETRY; the test does not exercise the overflow path", deliveries(b, "burst", "slow", "overflow"), n)
	t.Logf("%v overflowed after %v", deliveries(b, "burst", "slow", "overflow"), time.Since(start).Round(time.Millisecond))

	// The sink alone needs n*delay/concurrency; allow a generous margin for
	// a busy machine (CI ran it at 2,623 of 3,000 after 11.75 s), still far
	// below ack_wait (2 minutes).
	bound := n*delay/concurrency + 40*time.Second
	deadline := time.Now().Add(bound)
	for sink.Distinct() < n && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if got := sink.Distinct(); got < n {
		t.Fatalf("after %v (sending took %v) the target got %d of %d events (%d requests); RETRY holds %d; overflowed %v",
			bound, sent.Round(time.Millisecond), got, n, sink.Count(), streamMsgs(t, b, bus.StreamRetry), deliveries(b, "burst", "slow", "overflow"))
	}
	t.Logf("all %d delivered %v after the burst began", n, time.Since(start).Round(time.Millisecond))
	testkit.Eventually(t, 5*time.Second, func() bool { return streamMsgs(t, b, bus.StreamRetry) == 0 }, "RETRY not drained")
	// Nothing failed: nothing may arrive twice.
	testkit.Never(t, 500*time.Millisecond, func() bool { return sink.Count() > n }, "events delivered twice")
	if c := sink.Count(); c != n {
		t.Fatalf("target got %d requests for %d events: %d duplicates", c, n, c-n)
	}
}

// Overflowed events that the RETRY consumer has taken while the route's
// queue was full must be kept alive like any other held message: with the
// target stalled for several ack_waits, none may be handed out again by the
// bus, so none arrives twice.
func TestOverflowNotRedeliveredWhileQueueFull(t *testing.T) {
	const n = 200
	sink := testkit.NewSink(t)
	sink.Block()
	b := startBridge(t, yamlf(`
bus: {ack_wait: 1s}
sources: {in: {type: http, path: /events}}
targets: {slow: {type: http, url: %q}}
rules: {burst: {targets: [slow], delivery: {queue_size: 4, concurrency: 2}}}
`, sink.URL))
	publishTestEvents(t, b, 0, n)
	testkit.Eventually(t, 10*time.Second, func() bool { return deliveries(b, "burst", "slow", "overflow") >= n-6 },
		"overflow = %v", deliveries(b, "burst", "slow", "overflow"))
	// Several ack_waits with the target stalled.
	time.Sleep(4 * time.Second)
	sink.Open()
	testkit.Eventually(t, 10*time.Second, func() bool { return sink.Distinct() == n }, "target got %d of %d", sink.Distinct(), n)
	testkit.Never(t, 1500*time.Millisecond, func() bool { return sink.Count() > n }, "events delivered twice: %d requests for %d events", sink.Count(), n)
}

// A lone retry is taken from RETRY as soon as it is due: the consumer does
// not wait for a fetch of several messages to fill up or expire.
func TestLoneRetryIsPrompt(t *testing.T) {
	sink := testkit.NewSink(t)
	sink.SetStatus(func(n int64) int {
		if n == 1 {
			return 503
		}
		return 200
	})
	b := startBridge(t, yamlf(`
sources: {in: {type: http, path: /events}}
targets: {out: {type: http, url: %q}}
rules: {r: {targets: [out], delivery: {backoff: {initial: 100ms, jitter: 0}}}}
`, sink.URL))
	if code := sendEvent(t, b, "/events", "/test", "lone-1", "com.example.test"); code != 202 {
		t.Fatalf("send: %d", code)
	}
	testkit.Eventually(t, 10*time.Second, func() bool { return sink.Count() == 1 }, "the retry never arrived")
	times := sink.Times()
	if len(times) != 2 {
		t.Fatalf("%d attempts, want 2", len(times))
	}
	// 100 ms of backoff; the retry consumer's fetch waits up to 2 s, which
	// must not show here.
	if gap := times[1].Sub(times[0]); gap > time.Second {
		t.Errorf("the retry came %v after the failed attempt, want about 100ms", gap)
	}
}

// publishTestEvents publishes events e<from>…e<to-1> straight to the bus
// for source "in", in one batch.
func publishTestEvents(t *testing.T, b *server.Bridge, from, to int) {
	t.Helper()
	var batch []*ce.Event
	for i := from; i < to; i++ {
		e := ce.New()
		e.SetID(fmt.Sprintf("e%d", i))
		e.SetSource("/test")
		e.SetType("com.example.test")
		batch = append(batch, &e)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := b.Bus().Publish(ctx, "in", batch); err != nil {
		t.Fatalf("publish: %v", err)
	}
}
