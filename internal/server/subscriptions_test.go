package server_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

func TestSubscriptionsAPI(t *testing.T) {
	sink := testkit.NewSink(t)
	b := startBridge(t, `
api: {allow_private_sinks: true}
sources: {in: {type: http, path: /events}}
`)
	c := api(t, b)
	code, hdr, m := c.do("POST", "/v1/subscriptions", fmt.Sprintf(`{
		"id": "ignored", "source": "/test", "types": ["com.a", "com.b"],
		"filters": [{"prefix": {"subject": "orders/"}}],
		"sink": %q, "protocol": "HTTP",
		"sinkcredential": {"credentialtype": "ACCESSTOKEN", "accesstoken": "s3cret-token"},
		"protocolsettings": {"headers": {"X-Sub": "yes"}}}`, sink.URL))
	if code != 201 || !strings.HasPrefix(hdr.Get("Location"), "/v1/subscriptions/") || m["id"] == "ignored" {
		t.Fatalf("create: %d %v %v", code, hdr, m)
	}
	id := m["id"].(string)
	if cred := m["sinkcredential"].(map[string]any); cred["accesstoken"] != nil {
		t.Errorf("secret returned: %v", cred)
	}
	send := func(evID, typ, subject string) {
		if code := sendEventSubject(t, b, evID, typ, subject); code != 202 {
			t.Fatalf("send: %d", code)
		}
	}
	send("1", "com.a", "orders/1")   // matches
	send("2", "com.c", "orders/2")   // wrong type
	send("3", "com.b", "invoices/3") // wrong subject
	send("4", "com.b", "orders/4")   // matches
	testkit.Eventually(t, 10*time.Second, func() bool { return sink.Count() == 2 }, "subscription delivered %d, want 2", sink.Count())
	testkit.Never(t, 300*time.Millisecond, func() bool { return sink.Count() > 2 }, "a non-matching event was delivered")
	ev := sink.Events()[0]
	if ev.Header.Get("Authorization") != "Bearer s3cret-token" || ev.Header.Get("X-Sub") != "yes" {
		t.Errorf("sink headers %v", ev.Header)
	}

	if code, _, got := c.do("GET", "/v1/subscriptions/"+id, ""); code != 200 || got["sink"] != sink.URL {
		t.Errorf("get: %d %v", code, got)
	}
	if code, _, _ := c.do("GET", "/v1/subscriptions/nope", ""); code != 404 {
		t.Errorf("get missing: %d", code)
	}
	req := fmt.Sprintf(`{"sink": %q, "protocol": "HTTP", "types": ["com.c"], "sinkcredential": {"credentialtype": "ACCESSTOKEN"}}`, sink.URL)
	if code, _, got := c.do("PUT", "/v1/subscriptions/"+id, req); code != 200 {
		t.Fatalf("update: %d %v", code, got)
	}
	send("5", "com.c", "x")
	testkit.Eventually(t, 10*time.Second, func() bool { return sink.Count() == 3 }, "updated subscription not applied")
	if got := sink.Events()[2].Header.Get("Authorization"); got != "Bearer s3cret-token" {
		t.Errorf("credential lost on update: %q", got)
	}
	if code, _, _ := c.do("PUT", "/v1/subscriptions/"+id, `{"id":"other","sink":"http://x","protocol":"HTTP"}`); code != 400 {
		t.Errorf("id mismatch: %d", code)
	}
	if code, hdr, _ := c.do("OPTIONS", "/v1/subscriptions", ""); code != 200 || hdr.Get("Allow") != "GET, POST, OPTIONS" {
		t.Errorf("OPTIONS: %d %v", code, hdr)
	}
	code, _, _ = c.do("GET", "/v1/subscriptions", "")
	if code != 200 {
		t.Errorf("list: %d", code)
	}
	if code, _, got := c.do("DELETE", "/v1/subscriptions/"+id, ""); code != 200 || got["id"] != id {
		t.Errorf("delete: %d %v", code, got)
	}
	testkit.Eventually(t, 5*time.Second, func() bool {
		_, ok := b.Health().Components["route/subscription-"+id+"/subscription-"+id]
		return !ok
	}, "subscription still running after delete")
	if code, _, m := c.do("PUT", "/v1/rules/subscription-x", `{"targets":["t"]}`); code != 400 {
		t.Errorf("reserved name: %d %v", code, m)
	}
}

func TestSubscriptionSinksAreGuarded(t *testing.T) {
	sink := testkit.NewSink(t)
	b := startBridge(t, `sources: {in: {type: http, path: /events}}`)
	c := api(t, b)
	for _, sinkURL := range []string{sink.URL, "http://169.254.169.254/latest/meta-data", "http://localhost:9/", "http://[::1]:9/", "http://10.0.0.1/", "http://0.0.0.0:80/"} {
		code, _, m := c.do("POST", "/v1/subscriptions", fmt.Sprintf(`{"sink": %q, "protocol": "HTTP"}`, sinkURL))
		if code != 400 || !strings.Contains(toJSON(m), "not allowed") {
			t.Errorf("sink %s: %d %v", sinkURL, code, m)
		}
	}
	if code, _, m := c.do("POST", "/v1/subscriptions", `{"sink": "http://x.example/", "protocol": "KAFKA"}`); code != 400 || !strings.Contains(toJSON(m), "protocol") {
		t.Errorf("protocol: %d %v", code, m)
	}
	// The guard also runs when connecting: a target with block_private
	// cannot reach a loopback sink, whatever DNS said when it was made.
	localhost := strings.Replace(sink.URL, "127.0.0.1", "localhost", 1)
	if code, _, m := c.do("PUT", "/v1/targets/guarded", fmt.Sprintf(`{"type":"http","url":%q,"block_private":true}`, localhost)); code != 201 {
		t.Fatalf("PUT target: %d %v", code, m)
	}
	if code, _, m := c.do("PUT", "/v1/rules/g", `{"targets":["guarded"]}`); code != 201 {
		t.Fatalf("PUT rule: %d %v", code, m)
	}
	mustSend(t, b, "guarded-1")
	testkit.Eventually(t, 10*time.Second, func() bool { return streamMsgs(t, b, bus.StreamDLQ) == 1 }, "blocked delivery not dead-lettered")
	if sink.Attempts() != 0 {
		t.Fatalf("the guarded target reached the loopback sink")
	}
	letters := dlqMessages(t, b, "g", "guarded")
	if len(letters) != 1 || !strings.Contains(letters[0].Header.Get(bus.HdrLastError), "not allowed") {
		t.Fatalf("DLQ: %v", letters)
	}
}
