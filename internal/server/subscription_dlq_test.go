package server_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
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

// A subscription's dead letters are kept for api.subscription_dlq_max_age
// (default 168h), not forever as the bus keeps rules' by default.
func TestSubscriptionDeadLettersExpire(t *testing.T) {
	sink := testkit.NewSink(t)
	sink.SetStatus(func(int64) int { return http.StatusBadRequest })
	b := startBridge(t, `
api: {allow_private_sinks: true}
sources: {in: {type: http, path: /events}}
`)
	if !streamConfig(t, b, bus.StreamDLQ).AllowMsgTTL {
		t.Fatal("the DLQ stream does not allow per-message TTLs")
	}
	c := api(t, b)
	code, _, m := c.do("POST", "/v1/subscriptions", fmt.Sprintf(`{"sink": %q, "protocol": "HTTP"}`, sink.URL))
	if code != 201 {
		t.Fatalf("create: %d %v", code, m)
	}
	rule := "subscription-" + m["id"].(string)
	if code := sendEvent(t, b, "/events", "/test", "ttl-1", "com.a"); code != 202 {
		t.Fatal(code)
	}
	var letters []jetstream.RawStreamMsg
	testkit.Eventually(t, 10*time.Second, func() bool { letters = dlqMessages(t, b, rule, rule); return len(letters) == 1 }, "not dead-lettered")
	if got := letters[0].Header.Get(jetstream.MsgTTLHeader); got != (168 * time.Hour).String() {
		t.Errorf("subscription dead letter TTL = %q, want 168h", got)
	}
}

// With a short retention, a subscription's dead letters leave the DLQ.
func TestSubscriptionDeadLettersRetentionIsApplied(t *testing.T) {
	sink := testkit.NewSink(t)
	sink.SetStatus(func(int64) int { return http.StatusBadRequest })
	b := startBridge(t, `
api: {allow_private_sinks: true, subscription_dlq_max_age: 1s}
sources: {in: {type: http, path: /events}}
targets: {out: {type: http, url: "`+sink.URL+`"}}
rules: {r: {targets: [out]}}
`)
	c := api(t, b)
	code, _, m := c.do("POST", "/v1/subscriptions", fmt.Sprintf(`{"sink": %q, "protocol": "HTTP"}`, sink.URL))
	if code != 201 {
		t.Fatalf("create: %d %v", code, m)
	}
	rule := "subscription-" + m["id"].(string)
	if code := sendEvent(t, b, "/events", "/test", "ttl-2", "com.a"); code != 202 {
		t.Fatal(code)
	}
	testkit.Eventually(t, 10*time.Second, func() bool { return len(dlqMessages(t, b, "r", "out")) == 1 }, "rule's letter missing")
	testkit.Eventually(t, 20*time.Second, func() bool { return deliveries(b, rule, rule, "dead_lettered") == 1 }, "not dead-lettered")
	testkit.Eventually(t, 20*time.Second, func() bool { return len(dlqMessages(t, b, rule, rule)) == 0 }, "subscription's dead letter kept past its max age")
	if n := len(dlqMessages(t, b, "r", "out")); n != 1 {
		t.Errorf("the rule's dead letter went too (%d left): rules keep theirs per bus.dlq_max_age", n)
	}
}

func streamConfig(t testing.TB, b interface {
	Bus() *bus.Bus
}, stream string) jetstream.StreamConfig {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := b.Bus().JetStream().Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return info.Config
}
