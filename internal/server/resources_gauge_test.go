package server_test

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/config"
	"github.com/eventbridge-dev/eventbridge/internal/server"
	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

var (
	metricLine  = regexp.MustCompile(`(?m)^(eventbridge_resources|eventbridge_subscriptions_by_protocol)\{([^}]*)\} (\d+)$`)
	metricLabel = regexp.MustCompile(`(\w+)="([^"]*)"`)
)

// gaugeSeries reads eventbridge_resources ("kind/state") and
// eventbridge_subscriptions_by_protocol ("protocol") from /metrics.
func gaugeSeries(t *testing.T, b *server.Bridge) (resources, protocols map[string]int) {
	t.Helper()
	resp, err := http.Get("http://" + b.Addr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	text, _ := io.ReadAll(resp.Body)
	resources, protocols = map[string]int{}, map[string]int{}
	for _, m := range metricLine.FindAllStringSubmatch(string(text), -1) {
		labels := map[string]string{}
		for _, l := range metricLabel.FindAllStringSubmatch(m[2], -1) {
			labels[l[1]] = l[2]
		}
		n, _ := strconv.Atoi(m[3])
		if m[1] == "eventbridge_resources" {
			resources[labels["kind"]+"/"+labels["state"]] = n
		} else {
			protocols[labels["protocol"]] = n
		}
	}
	return resources, protocols
}

// eventbridge_resources counts every stored resource by kind and state,
// and eventbridge_subscriptions_by_protocol the subscriptions by protocol;
// both follow creates and deletes.
func TestResourcesGauge(t *testing.T) {
	sink := testkit.NewSink(t)
	cfg, err := config.Parse([]byte(fmt.Sprintf(`
api: {allow_private_addresses: true}
sources: {in: {type: http, path: /events}}
targets: {out: {type: http, url: %q}, out2: {type: log}}
rules: {r: {targets: [out]}}
`, sink.URL)))
	if err != nil {
		t.Fatal(config.String(err))
	}
	cfg.Bus.DataDir = t.TempDir()
	cfg.API.Listen = "127.0.0.1:0"
	cfg.Lifecycle.Disabled = true
	b := startBridgeConfig(t, cfg)
	c := api(t, b)
	want := func(res map[string]int, proto map[string]int) {
		t.Helper()
		var gotR, gotP map[string]int
		testkit.Eventually(t, 30*time.Second, func() bool {
			gotR, gotP = gaugeSeries(t, b)
			for k, n := range res {
				if gotR[k] != n {
					return false
				}
			}
			for k, n := range proto {
				if gotP[k] != n {
					return false
				}
			}
			return true
		}, "eventbridge_resources %v, want %v; eventbridge_subscriptions_by_protocol %v, want %v", &gotR, res, &gotP, proto) // pointers: printed when it fails
	}
	want(map[string]int{"source/running": 1, "target/running": 2, "rule/running": 1, "subscription/running": 0,
		"oran-subscription/running": 0, "oran-publisher/running": 0},
		map[string]int{"HTTP": 0, "AMQP": 0})

	var ids []string
	for _, body := range []string{
		fmt.Sprintf(`{"sink": %q, "protocol": "HTTP"}`, sink.URL),
		fmt.Sprintf(`{"sink": %q, "protocol": "HTTP"}`, sink.URL),
		`{"sink": "amqp://127.0.0.1:5672/eb-gauge-test", "protocol": "AMQP"}`,
	} {
		code, _, m := c.do("POST", "/v1/subscriptions", body)
		if code != 201 {
			t.Fatalf("create %s: %d %v", body, code, m)
		}
		ids = append(ids, m["id"].(string))
	}
	// A subscription's own target and rule are not stored resources.
	want(map[string]int{"subscription/running": 3, "target/running": 2, "rule/running": 1},
		map[string]int{"HTTP": 2, "AMQP": 1})
	if code, _, _ := c.do("DELETE", "/v1/subscriptions/"+ids[0], ""); code != 200 {
		t.Fatalf("delete: %d", code)
	}
	want(map[string]int{"subscription/running": 2}, map[string]int{"HTTP": 1, "AMQP": 1})
}
