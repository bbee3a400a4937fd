package server_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
	"github.com/eventbridge-dev/eventbridge/internal/config"
	"github.com/eventbridge-dev/eventbridge/internal/delivery"
	"github.com/eventbridge-dev/eventbridge/internal/server"
	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

// sendWith posts a binary-mode event of type typ with extra ce-* headers
// (extensions) and fails the test unless it is accepted.
func sendWith(t testing.TB, b *server.Bridge, id, typ string, ext map[string]string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+b.Addr()+"/events", strings.NewReader(`{"n":1}`))
	req.Header.Set("ce-specversion", "1.0")
	req.Header.Set("ce-id", id)
	req.Header.Set("ce-source", "/test")
	req.Header.Set("ce-type", typ)
	for k, v := range ext {
		req.Header.Set("ce-"+k, v)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("send %s: %v", id, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("send %s: status %d", id, resp.StatusCode)
	}
}

// restartable parses a config for a bridge that keeps its data directory
// across stops and starts.
func restartable(t *testing.T, yamlText string) *config.Config {
	t.Helper()
	cfg, err := config.Parse([]byte(yamlText))
	if err != nil {
		t.Fatalf("config: %s", config.String(err))
	}
	cfg.Bus.DataDir = t.TempDir()
	cfg.API.Listen = "127.0.0.1:0"
	cfg.Lifecycle.Disabled = true
	return cfg
}

func ruleDuplicates(b *server.Bridge, rule, target string) float64 {
	return testutil.ToFloat64(b.Metrics().RuleDuplicates.WithLabelValues(rule, target))
}

// A rule's dedup delivers one event per key per window, whatever the
// events' ids, across a restart of the whole bridge; after the window the
// key is delivered again.
func TestRuleDedupAcrossRestart(t *testing.T) {
	const window = 8 * time.Second
	sink := testkit.NewSink(t)
	cfg := restartable(t, yamlf(`
bus: {dedup_window: 1s}
sources: {in: {type: http, path: /events}}
targets: {out: {type: http, url: %q}}
rules: {once: {targets: [out], dedup: {key: ghdelivery, window: %s}}}
`, sink.URL, window))
	b := startBridgeConfig(t, cfg)
	sendWith(t, b, "1", "push", map[string]string{"ghdelivery": "d-1"})
	sendWith(t, b, "2", "push", map[string]string{"ghdelivery": "d-1"}) // re-sent by hand: a new id
	sent := time.Now()                                                  // both were ingested before this; the window of d-1 starts at the one delivered
	sendWith(t, b, "3", "push", map[string]string{"ghdelivery": "d-2"})
	sendWith(t, b, "4", "push", nil) // no key: delivered
	testkit.Eventually(t, 10*time.Second, func() bool { return sink.Count() == 3 && ruleDuplicates(b, "once", "out") == 1 }, "want 3 deliveries and 1 duplicate, got %d and %v", sink.Count(), ruleDuplicates(b, "once", "out"))
	// One of the two events with key d-1 is delivered: the first one the
	// route's workers (which run in parallel) took, not always the first sent.
	if sink.Has("/test", "1") == sink.Has("/test", "2") {
		t.Fatalf("ids 1 and 2 share a key: want one of them delivered, got 1: %v, 2: %v", sink.Has("/test", "1"), sink.Has("/test", "2"))
	}
	if err := stopBridge(b); err != nil {
		t.Fatal(err)
	}

	b = startBridgeConfig(t, cfg)
	sendWith(t, b, "5", "push", map[string]string{"ghdelivery": "d-1"})
	// The first event itself, sent again after the bus's dedup window: stored
	// again, and a duplicate for the rule.
	testkit.Eventually(t, 5*time.Second, func() bool { return time.Since(sent) > 1500*time.Millisecond }, "")
	sendWith(t, b, "1", "push", map[string]string{"ghdelivery": "d-1"})
	if time.Since(sent) >= window {
		t.Skipf("the restart took longer than the window (%s): the machine is too slow for this test", window)
	}
	testkit.Eventually(t, 10*time.Second, func() bool { return ruleDuplicates(b, "once", "out") == 2 }, "the events after the restart were not dropped as duplicates")
	if sink.Has("/test", "5") || sink.Count() != 3 {
		t.Fatalf("a duplicate was delivered after the restart: %d deliveries", sink.Count())
	}

	// After the window the key opens a new one.
	testkit.Eventually(t, window+5*time.Second, func() bool { return time.Since(sent) > window }, "")
	sendWith(t, b, "6", "push", map[string]string{"ghdelivery": "d-1"})
	sendWith(t, b, "7", "push", map[string]string{"ghdelivery": "d-1"})
	testkit.Eventually(t, 10*time.Second, func() bool {
		return (sink.Has("/test", "6") || sink.Has("/test", "7")) && ruleDuplicates(b, "once", "out") == 3
	}, "after the window: want one of ids 6 and 7 delivered and the other dropped")
	if got := sink.Count(); got != 4 || sink.Has("/test", "6") == sink.Has("/test", "7") {
		t.Fatalf("%d deliveries (6: %v, 7: %v), want 4 with one of 6 and 7", got, sink.Has("/test", "6"), sink.Has("/test", "7"))
	}
}

// A delayed event (rule delay) and a scheduled one (deliverat) wait in
// RETRY across a restart and arrive at their time, not before.
func TestDelayedDeliveryAcrossRestart(t *testing.T) {
	const delay = 3 * time.Second
	late, at := testkit.NewSink(t), testkit.NewSink(t)
	cfg := restartable(t, yamlf(`
sources: {in: {type: http, path: /events}}
targets: {late: {type: http, url: %q}, at: {type: http, url: %q}}
rules:
  delayed: {targets: [late], delay: %s, filter: {sql: "type = 'later'"}}
  scheduled: {targets: [at], filter: {sql: "type = 'at'"}}
`, late.URL, at.URL, delay))
	b := startBridgeConfig(t, cfg)
	before := time.Now()
	dueAt := before.Add(delay).UTC()
	sendWith(t, b, "d", "later", nil)
	sendWith(t, b, "s", "at", map[string]string{"deliverat": dueAt.Format(time.RFC3339Nano)})
	sendWith(t, b, "p", "at", map[string]string{"deliverat": before.Add(-time.Hour).UTC().Format(time.RFC3339)})
	testkit.Eventually(t, 10*time.Second, func() bool {
		return deliveries(b, "delayed", "late", delivery.OutcomeDelayed) == 1 && deliveries(b, "scheduled", "at", delivery.OutcomeDelayed) == 1 && at.Has("/test", "p")
	}, "the events were not held, or the one due in the past was not delivered")
	if err := stopBridge(b); err != nil {
		t.Fatal(err)
	}
	if time.Now().After(dueAt) {
		t.Skipf("the bridge stopped after the events were due: the machine is too slow for this test")
	}
	if late.Count() != 0 || at.Count() != 1 {
		t.Fatalf("delivered before their time: %d, %d", late.Count(), at.Count())
	}
	b = startBridgeConfig(t, cfg)
	// A held message the stopped bridge had in hand comes back at once if
	// it was handed back, or after bus.ack_wait (30s) at worst.
	testkit.Eventually(t, delay+45*time.Second, func() bool { return late.Count() == 1 && at.Count() == 2 }, "the held events were not delivered after the restart")
	if got := late.Events()[0].At; got.Before(dueAt) {
		t.Errorf("the delayed event arrived at %s, %s before its time", got, dueAt.Sub(got))
	}
	for _, e := range at.Events() {
		if e.ID == "s" && e.At.Before(dueAt) {
			t.Errorf("the scheduled event arrived at %s, %s before its time", e.At, dueAt.Sub(e.At))
		}
	}
	if n := streamMsgs(t, b, bus.StreamRetry); n != 0 {
		t.Errorf("RETRY still holds %d messages", n)
	}
}
