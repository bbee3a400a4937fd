package server_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

// A subscription runs as the rule subscription-<id>: its dead letters are
// listed, redriven and purged under that name, like any rule's.
func TestSubscriptionDeadLettersListRedrivePurge(t *testing.T) {
	sink := testkit.NewSink(t)
	sink.SetStatus(func(int64) int { return http.StatusBadRequest }) // permanent
	b := startBridge(t, `
api: {allow_private_sinks: true}
sources: {in: {type: http, path: /events}}
`)
	c := api(t, b)
	code, _, m := c.do("POST", "/v1/subscriptions", fmt.Sprintf(`{"sink": %q, "protocol": "HTTP"}`, sink.URL))
	if code != 201 {
		t.Fatalf("create: %d %v", code, m)
	}
	rule := "subscription-" + m["id"].(string)
	base := "/v1/rules/" + rule + "/deadletters"
	for i := range 3 {
		if code := sendEvent(t, b, "/events", "/test", fmt.Sprintf("s%d", i), "com.a"); code != 202 {
			t.Fatal(code)
		}
	}
	testkit.Eventually(t, 10*time.Second, func() bool { return len(dlqMessages(t, b, rule, rule)) == 3 }, "not dead-lettered")

	code, _, m = c.do("GET", base, "")
	if code != 200 {
		t.Fatalf("list: %d %v", code, m)
	}
	items, _ := m["items"].([]any)
	if len(items) != 3 {
		t.Fatalf("list: %d letters, want 3: %v", len(items), m)
	}
	first := items[0].(map[string]any)
	if first["rule"] != rule || first["target"] != rule || first["reason"] != "permanent" {
		t.Errorf("letter %v", first)
	}
	id := fmt.Sprint(int(first["id"].(float64)))
	if code, _, one := c.do("GET", base+"/"+id, ""); code != 200 || one["id"] != first["id"] {
		t.Errorf("get one: %d %v", code, one)
	}
	if code, _, _ := c.do("GET", "/v1/rules/subscription-nope/deadletters", ""); code != 404 {
		t.Errorf("letters of a subscription that does not exist: %d, want 404", code)
	}

	// The sink heals: redrive one letter, and it is delivered.
	sink.SetStatus(nil)
	code, hdr, m := c.do("POST", base+"/"+id+":redrive", "")
	if code != 202 {
		t.Fatalf("redrive: %d %v", code, m)
	}
	testkit.Eventually(t, 10*time.Second, func() bool {
		_, _, op := c.do("GET", hdr.Get("Location"), "")
		return op["state"] == "succeeded"
	}, "redrive did not finish")
	testkit.Eventually(t, 10*time.Second, func() bool { return sink.Count() == 1 }, "redriven letter not delivered")
	if got := sink.Events()[0].ID; got != first["event"].(map[string]any)["id"] {
		t.Errorf("delivered %q, want the redriven letter's event", got)
	}

	code, _, m = c.do("POST", base+":purge", "")
	if code != 200 || m["purged"] != float64(2) {
		t.Fatalf("purge: %d %v", code, m)
	}
	if _, _, m = c.do("GET", base, ""); len(m["items"].([]any)) != 0 {
		t.Errorf("letters after purge: %v", m)
	}
}
