package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

func TestLifecycleEvents(t *testing.T) {
	sink, bad := testkit.NewSink(t), testkit.NewSink(t)
	bad.SetStatus(func(int64) int { return http.StatusBadRequest })
	b := startBridge(t, yamlf(`
instance: {name: node-7}
lifecycle: {alive_interval: 1s}
sources: {in: {type: http, path: /events}}
targets:
  life: {type: http, url: %q, mode: structured}
  bad: {type: http, url: %q}
  broken: {type: log, file: /nonexistent-dir/x.log}
rules:
  lifecycle: {sources: [eventbridge], targets: [life]}
  failing: {sources: [in], targets: [bad]}
`, sink.URL, bad.URL))
	types := func() map[string]int {
		out := map[string]int{}
		for _, e := range sink.Events() {
			var m map[string]any
			_ = json.Unmarshal(e.Body, &m)
			typ, _ := m["type"].(string)
			out[strings.TrimPrefix(typ, "io.eventbridge.lifecycle.v1.")]++
		}
		return out
	}
	testkit.Eventually(t, 10*time.Second, func() bool {
		got := types()
		return got["startup"] == 1 && got["provisioned"] == 1 && got["alive"] >= 1 && got["component_failed"] >= 1
	}, "lifecycle events: %v", types())
	mustSend(t, b, "will-fail")
	testkit.Eventually(t, 10*time.Second, func() bool { return types()["dead_lettered"] == 1 }, "no dead_lettered event: %v", types())

	var startup map[string]any
	for _, e := range sink.Events() {
		var m map[string]any
		_ = json.Unmarshal(e.Body, &m)
		if m["type"] == "io.eventbridge.lifecycle.v1.startup" {
			startup = m
		}
	}
	data := startup["data"].(map[string]any)
	if startup["source"] != "/eventbridge/node-7" || startup["subject"] != "node-7" || data["identity"] != "node-7" ||
		data["component"] != "eventbridge" || data["protocol"] != "io.eventbridge.lifecycle.v1.startup" || data["version"] == nil {
		t.Errorf("startup event %v", startup)
	}
	if err := stopBridge(b); err != nil {
		t.Fatal(err)
	}
}

// A source with codec: choria-lifecycle reads Choria's bare JSON; with
// dedup: false, alive events that reuse their id are all kept.
func TestChoriaCodecAndDedupOff(t *testing.T) {
	sink := testkit.NewSink(t)
	b := startBridge(t, yamlf(`
sources: {choria: {type: http, path: /choria, codec: choria-lifecycle, dedup: false}}
targets: {out: {type: http, url: %q, mode: structured}}
rules: {r: {targets: [out]}}
`, sink.URL))
	alive := `{"protocol":"io.choria.lifecycle.v1.alive","id":"same-id","identity":"n1.example.net","component":"server","timestamp":1575482338,"version":"0.27.0"}`
	for i := 0; i < 2; i++ {
		resp, err := http.Post("http://"+b.Addr()+"/choria", "application/json", strings.NewReader(alive))
		if err != nil || resp.StatusCode != 202 {
			t.Fatalf("post: %v %v", err, resp)
		}
		resp.Body.Close()
	}
	testkit.Eventually(t, 10*time.Second, func() bool { return sink.Count() == 2 }, "alive events with a reused id: %d delivered, want 2", sink.Count())
	var got map[string]any
	_ = json.Unmarshal(sink.Events()[0].Body, &got)
	if got["type"] != "io.choria.lifecycle.v1.alive" || got["source"] != "io.choria.lifecycle" || got["subject"] != "n1.example.net" || got["component"] != "server" {
		t.Errorf("mapped event %v", got)
	}
	resp, _ := http.Post("http://"+b.Addr()+"/choria", "application/json", strings.NewReader(`{"hello":"world"}`))
	if resp.StatusCode != 400 {
		t.Errorf("not a lifecycle event: %d", resp.StatusCode)
	}
	resp.Body.Close()
}

// An optional target that cannot start degrades readiness without failing
// it; a required one fails it. Bus gauges are published.
func TestReadinessOptionalAndBusGauges(t *testing.T) {
	b := startBridge(t, `
sources: {in: {type: http, path: /events}}
targets:
  opt: {type: log, file: /nonexistent-dir/x.log, optional: true}
  ok: {type: log, file: /dev/null}
rules: {r: {targets: [ok]}}
`)
	rep := b.Health()
	if !rep.Ready || !rep.Degraded || rep.Components["target/opt"].State != 5 {
		t.Fatalf("optional failure: ready=%v degraded=%v %+v", rep.Ready, rep.Degraded, rep.Components["target/opt"])
	}
	resp, err := http.Get("http://" + b.Addr() + "/readyz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("readyz: %v %v", err, resp)
	}
	resp.Body.Close()
	mustSend(t, b, "g1")
	b.RefreshGauges()
	if got := testutil.ToFloat64(b.Metrics().StreamMessages.WithLabelValues("EVENTS")); got != 1 {
		t.Errorf("eventbridge_stream_messages{stream=EVENTS} = %v", got)
	}

	b2 := startBridge(t, `targets: {req: {type: log, file: /nonexistent-dir/x.log}}`)
	if rep := b2.Health(); rep.Ready {
		t.Fatalf("a failed required target left the bridge ready: %+v", rep)
	}
}

func TestSeparateMetricsListener(t *testing.T) {
	b := startBridge(t, "api: {metrics_listen: '127.0.0.1:0'}\n")
	resp, err := http.Get("http://" + b.MetricsAddr() + "/metrics")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("metrics listener: %v %v", err, resp)
	}
	resp.Body.Close()
	resp, _ = http.Get("http://" + b.Addr() + "/metrics")
	if resp.StatusCode != 404 {
		t.Errorf("/metrics still on the API port: %d", resp.StatusCode)
	}
	resp.Body.Close()
}
