package server_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

// fieldErrors returns the problem's errors as field → reason.
func fieldErrors(m map[string]any) map[string]string {
	out := map[string]string{}
	list, _ := m["errors"].([]any)
	for _, e := range list {
		fe, _ := e.(map[string]any)
		f, _ := fe["field"].(string)
		r, _ := fe["reason"].(string)
		out[f] = r
	}
	return out
}

// TestAPIAddressesAreGuarded: addresses written out in targets and
// sources created through the API are refused with a 400 naming the
// field; the config file's resources may point anywhere.
func TestAPIAddressesAreGuarded(t *testing.T) {
	b := startBridge(t, `
sources: {in: {type: http, path: /events}}
targets: {back: {type: http, url: "http://127.0.0.1:9/"}}
`)
	c := api(t, b)
	for _, tc := range []struct{ path, body, field string }{
		{"/v1/targets/meta", `{"type":"http","url":"http://169.254.169.254/latest/meta-data/"}`, "spec.url"},
		{"/v1/targets/compat", `{"type":"http","url":"http://[::127.0.0.1]:8080/"}`, "spec.url"},
		{"/v1/targets/mapped", `{"type":"http","url":"http://[::ffff:10.0.0.1]/","block_private":false}`, "spec.url"},
		{"/v1/targets/token", `{"type":"http","url":"https://example.com/hook",
			"auth":{"oauth2":{"token_url":"http://10.0.0.1/token","client_id":"c","client_secret":"s"}}}`, "spec.auth.oauth2.token_url"},
		{"/v1/targets/rpc", `{"type":"grpc","address":"127.0.0.1:50051"}`, "spec.address"},
		{"/v1/sources/poller", `{"type":"poll","every":"1m","url":"http://10.0.0.1/items"}`, "spec.url"},
		{"/v1/sources/polltoken", `{"type":"poll","every":"1m","url":"https://example.com/items",
			"auth":{"oauth2":{"token_url":"http://[fd00:ec2::254]/token","client_id":"c","client_secret":"s"}}}`, "spec.auth.oauth2.token_url"},
		// Brokers: the addresses in their URLs.
		{"/v1/targets/nats", `{"type":"nats","url":"nats://example.com:4222,nats://10.0.0.1:4222","subject":"x"}`, "spec.url[1]"},
		{"/v1/targets/js", `{"type":"jetstream","url":"nats://[::1]:4222","subject":"x"}`, "spec.url[0]"},
		{"/v1/targets/kafka", `{"type":"kafka","brokers":["10.0.0.1:9092"],"topic":"x"}`, "spec.brokers[0]"},
		{"/v1/targets/mqtt", `{"type":"mqtt","url":"mqtt://169.254.169.254:1883","topic":"x"}`, "spec.url[0]"},
		{"/v1/targets/amqp", `{"type":"amqp","url":"amqp://127.0.0.1:5672","exchange":"x"}`, "spec.url"},
		{"/v1/targets/amqp1", `{"type":"amqp1","address":"q"}`, "spec.url"}, // its default is loopback
		{"/v1/targets/redis", `{"type":"redis","url":"redis://192.168.1.1:6379/0","stream":"x"}`, "spec.url"},
		{"/v1/targets/pg", `{"type":"postgres","url":"postgres://u@10.1.1.1:5432/db","table":"x"}`, "spec.url"},
	} {
		code, _, m := c.do("PUT", tc.path, tc.body)
		if reason := fieldErrors(m)[tc.field]; code != 400 || !strings.Contains(reason, "not allowed") {
			t.Errorf("PUT %s: %d %v, want 400 with a reason at %s", tc.path, code, m, tc.field)
		}
	}
	// A name is accepted (it is checked when dialled) ...
	if code, _, m := c.do("PUT", "/v1/targets/named", `{"type":"http","url":"http://localhost:9/"}`); code != 201 {
		t.Errorf("PUT a target named by host name: %d %v", code, m)
	}
}

// TestAPITargetRefusedWhenDialled: a target whose name resolves to a
// loopback address is accepted through the API, but its deliveries are
// refused when dialled and dead-lettered, and nothing reaches the server.
func TestAPITargetRefusedWhenDialled(t *testing.T) {
	sink := testkit.NewSink(t)
	b := startBridge(t, `sources: {in: {type: http, path: /events}}`)
	c := api(t, b)
	url := strings.Replace(sink.URL, "127.0.0.1", "localhost", 1)
	// block_private false is the caller's wish; the bridge's switch decides.
	if code, _, m := c.do("PUT", "/v1/targets/local", fmt.Sprintf(`{"type":"http","url":%q,"block_private":false}`, url)); code != 201 {
		t.Fatalf("PUT target: %d %v", code, m)
	}
	if code, _, m := c.do("PUT", "/v1/rules/r", `{"targets":["local"]}`); code != 201 {
		t.Fatalf("PUT rule: %d %v", code, m)
	}
	mustSend(t, b, "ssrf-1")
	testkit.Eventually(t, 20*time.Second, func() bool { return streamMsgs(t, b, bus.StreamDLQ) == 1 }, "the refused delivery is dead-lettered")
	if n := sink.Attempts(); n != 0 {
		t.Fatalf("%d requests reached the loopback server", n)
	}
	letters := dlqMessages(t, b, "r", "local")
	if len(letters) != 1 || !strings.Contains(letters[0].Header.Get(bus.HdrLastError), "not allowed") {
		t.Fatalf("DLQ: %v", letters)
	}
}

// TestAllowPrivateAddresses: with the operator's switch on, API-created
// targets reach loopback addresses.
func TestAllowPrivateAddresses(t *testing.T) {
	sink := testkit.NewSink(t)
	b := startBridge(t, `
api: {allow_private_addresses: true}
sources: {in: {type: http, path: /events}}
`)
	c := api(t, b)
	if code, _, m := c.do("PUT", "/v1/targets/local", fmt.Sprintf(`{"type":"http","url":%q}`, sink.URL)); code != 201 {
		t.Fatalf("PUT target: %d %v", code, m)
	}
	if code, _, m := c.do("PUT", "/v1/rules/r", `{"targets":["local"]}`); code != 201 {
		t.Fatalf("PUT rule: %d %v", code, m)
	}
	mustSend(t, b, "allowed-1")
	testkit.Eventually(t, 20*time.Second, func() bool { return sink.Has("/test", "allowed-1") }, "the event reaches the loopback sink")
}
