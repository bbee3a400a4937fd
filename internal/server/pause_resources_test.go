package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
	"github.com/eventbridge-dev/eventbridge/internal/config"
	"github.com/eventbridge-dev/eventbridge/internal/server"
	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

// A paused target receives nothing, its deliveries wait in RETRY using no
// attempt (max_attempts: 1 would dead-letter them otherwise), and it gets
// everything once resumed. A paused HTTP source answers 503 with
// Retry-After and stores nothing. Both stay paused across a restart.
func TestPausedTargetAndSource(t *testing.T) {
	sink := testkit.NewSink(t)
	cfg, err := config.Parse([]byte(yamlf(`
sources:
  in: {type: http, path: /events}
  nightly: {type: cron, cron: "0 3 * * *", event: {type: com.example.nightly}}
targets: {out: {type: http, url: %q}}
rules: {r: {targets: [out], delivery: {max_attempts: 1}}}
`, sink.URL)))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Bus.DataDir = t.TempDir()
	cfg.API.Listen = "127.0.0.1:0"
	cfg.Lifecycle.Disabled = true
	b := startBridgeConfig(t, cfg)
	c := api(t, b)
	if code, _, m := c.do("POST", "/v1/targets/out:pause", ""); code != 200 || m["paused"] != true || m["status"].(map[string]any)["state"] != "paused" {
		t.Fatalf("pause target: %d %v", code, m)
	}
	const n = 20
	for i := range n {
		mustSend(t, b, fmt.Sprintf("p%d", i))
	}
	testkit.Eventually(t, 5*time.Second, func() bool { return streamMsgs(t, b, bus.StreamRetry) == n }, "held events not in RETRY")
	testkit.Never(t, 300*time.Millisecond, func() bool { return sink.Count() > 0 }, "a paused target received an event")

	if code, _, m := c.do("POST", "/v1/sources/in:pause", ""); code != 200 || m["status"].(map[string]any)["state"] != "paused" {
		t.Fatalf("pause source: %d %v", code, m)
	}
	refused := func(b *server.Bridge) {
		t.Helper()
		before := streamMsgs(t, b, bus.StreamEvents)
		req, _ := http.NewRequest(http.MethodPost, "http://"+b.Addr()+"/events", strings.NewReader(`{}`))
		req.Header.Set("ce-specversion", "1.0")
		req.Header.Set("ce-id", "refused")
		req.Header.Set("ce-source", "/test")
		req.Header.Set("ce-type", "com.example.test")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
			t.Errorf("a paused source answered %d, Retry-After %q; want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		if after := streamMsgs(t, b, bus.StreamEvents); after != before {
			t.Errorf("a paused source stored %d events", after-before)
		}
	}
	refused(b)

	// Restarted, both are still paused.
	if err := stopBridge(b); err != nil {
		t.Fatal(err)
	}
	b = startBridgeConfig(t, cfg)
	c = api(t, b)
	for _, path := range []string{"/v1/targets/out", "/v1/sources/in"} {
		if _, _, m := c.do("GET", path, ""); m["paused"] != true || m["status"].(map[string]any)["state"] != "paused" {
			t.Errorf("%s after a restart: %v", path, m)
		}
	}
	refused(b)
	testkit.Never(t, 300*time.Millisecond, func() bool { return sink.Count() > 0 }, "a paused target received an event after a restart")

	if code, _, _ := c.do("POST", "/v1/targets/out:resume", ""); code != 200 {
		t.Fatalf("resume target: %d", code)
	}
	testkit.Eventually(t, 10*time.Second, func() bool { return sink.Distinct() == n }, "resumed target got %d of %d", sink.Distinct(), n)
	if d := streamMsgs(t, b, bus.StreamDLQ); d != 0 {
		t.Errorf("%d dead letters: holding used attempts", d)
	}
	if code, _, _ := c.do("POST", "/v1/sources/in:resume", ""); code != 200 {
		t.Fatalf("resume source: %d", code)
	}
	mustSend(t, b, "after-resume")

	// A source that does not answer requests (here a schedule) is stopped
	// while paused: no component, no job; resumed, it runs again.
	running := func() bool { _, ok := b.Health().Components["source/nightly"]; return ok }
	hasJob := func() bool { _, _, m := c.do("GET", "/v1/jobs", ""); return strings.Contains(fmt.Sprint(m), "nightly") }
	if !running() || !hasJob() {
		t.Fatalf("the cron source does not run before pausing")
	}
	if code, _, m := c.do("POST", "/v1/sources/nightly:pause", ""); code != 200 || m["status"].(map[string]any)["state"] != "paused" {
		t.Fatalf("pause cron source: %d %v", code, m)
	}
	testkit.Eventually(t, 5*time.Second, func() bool { return !running() && !hasJob() }, "a paused cron source still runs")
	if code, _, _ := c.do("POST", "/v1/sources/nightly:resume", ""); code != 200 {
		t.Fatalf("resume cron source: %d", code)
	}
	testkit.Eventually(t, 5*time.Second, func() bool { return running() && hasJob() }, "a resumed cron source does not run")
	testkit.Eventually(t, 10*time.Second, func() bool { return sink.Distinct() == n+1 }, "the resumed source's event was not delivered")
}
