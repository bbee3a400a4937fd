package cli

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/testkit"
	"github.com/eventbridge-dev/eventbridge/internal/testkit/bridgetest"
)

// A subscription's dead letters are reached by the rule it runs as,
// subscription-<id>.
func TestDLQOfASubscription(t *testing.T) {
	sink := testkit.NewSink(t)
	sink.SetStatus(func(int64) int { return http.StatusBadRequest })
	url := startBridge(t, `
api: {allow_private_sinks: true}
sources: {in: {type: http, path: /events}}
`)
	body := fmt.Sprintf(`{"sink": %q, "protocol": "HTTP"}`, sink.URL)
	resp, err := http.Post(url+"/v1/subscriptions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var sub struct{ ID string }
	err = json.NewDecoder(resp.Body).Decode(&sub)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("create subscription: %d %v", resp.StatusCode, err)
	}
	rule := "subscription-" + sub.ID
	bridgetest.Send(t, url, "/events", "/test", "sub-1", "com.a")
	testkit.Eventually(t, 10*time.Second, func() bool {
		return strings.Contains(cli(t, url, "dlq", "list", rule).out, "sub-1")
	}, "subscription's dead letter not listed: %v", cli(t, url, "dlq", "list", rule))

	sink.SetStatus(nil)
	if r := cli(t, url, "dlq", "redrive", rule, "--all", "--poll-interval", "20ms"); r.code != 0 || !strings.Contains(r.out, "matched=1 done=1 failed=0") {
		t.Fatalf("redrive: %v", r)
	}
	testkit.Eventually(t, 10*time.Second, func() bool { return sink.Count() == 1 }, "redriven letter not delivered")

	sink.SetStatus(func(int64) int { return http.StatusBadRequest })
	bridgetest.Send(t, url, "/events", "/test", "sub-2", "com.a")
	testkit.Eventually(t, 10*time.Second, func() bool {
		return strings.Contains(cli(t, url, "dlq", "list", rule).out, "sub-2")
	}, "second dead letter not listed")
	if r := cli(t, url, "dlq", "purge", rule, "--yes"); r.code != 0 || r.out != "1 dead letters of rule "+rule+" purged\n" {
		t.Errorf("purge: %v", r)
	}
}
