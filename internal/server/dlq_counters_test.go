package server_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

// The dead_letters counter of a rule agrees with its DLQ listing at once
// after a redrive or a purge (it used to lag ~20 s behind a gauge).
func TestRuleDeadLettersCounterFollowsRedriveAndPurge(t *testing.T) {
	sink := testkit.NewSink(t)
	sink.SetStatus(func(int64) int { return http.StatusBadRequest })
	b := startBridge(t, yamlf(`
sources: {in: {type: http, path: /events}}
targets: {out: {type: http, url: %q}}
rules: {r: {targets: [out]}}
`, sink.URL))
	c := api(t, b)
	counter := func() float64 {
		_, _, m := c.do("GET", "/v1/rules/r", "")
		st, _ := m["status"].(map[string]any)
		cs, _ := st["counters"].(map[string]any)
		v, _ := cs["dead_letters"].(float64)
		return v
	}
	listed := func() int {
		_, _, m := c.do("GET", "/v1/rules/r/deadletters?limit=100", "")
		items, _ := m["items"].([]any)
		return len(items)
	}
	send := func(prefix string) {
		for i := 0; i < 3; i++ {
			if code := sendEvent(t, b, "/events", "/test", fmt.Sprintf("%s%d", prefix, i), "com.a"); code != 202 {
				t.Fatal(code)
			}
		}
		testkit.Eventually(t, 30*time.Second, func() bool { return listed() == 3 }, "not dead-lettered")
	}
	send("a")
	if got := counter(); got != 3 {
		t.Fatalf("dead_letters %v next to 3 listed", got)
	}

	sink.SetStatus(nil)
	code, hdr, _ := c.do("POST", "/v1/rules/r/deadletters:redrive", "")
	if code != 202 {
		t.Fatalf("redrive: %d", code)
	}
	testkit.Eventually(t, 30*time.Second, func() bool {
		_, _, op := c.do("GET", hdr.Get("Location"), "")
		return op["state"] == "succeeded"
	}, "redrive did not finish")
	if n, got := listed(), counter(); n != 0 || got != 0 {
		t.Fatalf("after redrive: %d listed, dead_letters %v", n, got)
	}

	sink.SetStatus(func(int64) int { return http.StatusBadRequest })
	send("b")
	if code, _, _ := c.do("POST", "/v1/rules/r/deadletters:purge", ""); code != 200 {
		t.Fatalf("purge: %d", code)
	}
	if n, got := listed(), counter(); n != 0 || got != 0 {
		t.Fatalf("after purge: %d listed, dead_letters %v", n, got)
	}
}
