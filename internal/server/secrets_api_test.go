package server_test

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

// raw sends a request with a bearer token and returns the status and the
// whole body, so that a test can look for a value anywhere in it.
func raw(t *testing.T, base, token, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

const (
	writeToken = "write-token-0123456789"
	readToken  = "read-token-0123456789"
)

func tokensYAML() string {
	return fmt.Sprintf(`
api:
  tokens:
    w: {sha256: %q, scopes: [write]}
    r: {sha256: %q, scopes: [read]}
`, sha256hex(writeToken), sha256hex(readToken))
}

// The attack of issue 11: a write token may not make the bridge read its
// files or environment through a resource, nor learn whether a path
// exists.
func TestAPIRefusesEnvAndFileReferences(t *testing.T) {
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "secret")
	if err := os.WriteFile(secretFile, []byte("MARKER-file-7f3a\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("EB_TEST_ADMIN_TOKEN", "MARKER-env-91c2")
	b := startBridge(t, tokensYAML())
	base := "http://" + b.Addr()
	put := func(path, body string) (int, string) { return raw(t, base, writeToken, "PUT", path, body) }

	mode := func(file string) string {
		code, body := put("/v1/targets/echo", fmt.Sprintf(`{"type":"http","url":"http://127.0.0.1:9/","mode":"${file:%s}"}`, file))
		if code != 400 || strings.Contains(body, "MARKER") || !strings.Contains(body, "spec.mode") || !strings.Contains(body, "secrets:") {
			t.Fatalf("mode ${file:…}: %d %s", code, body)
		}
		return body
	}
	existing, missing := mode(secretFile), mode(filepath.Join(dir, "nonexistent"))
	if existing != missing {
		t.Errorf("an existing and a missing path answer differently:\n%s\n%s", existing, missing)
	}

	cases := []struct{ path, body, field string }{
		{"/v1/targets/leak", `{"type":"http","url":"http://127.0.0.1:9/","headers":{"X-Token":"${env:EB_TEST_ADMIN_TOKEN}"}}`, "spec.headers.X-Token"},
		{"/v1/targets/leak", `{"type":"http","url":"http://127.0.0.1:9/","auth":{"bearer":"${env:EB_TEST_ADMIN_TOKEN}"}}`, "spec.auth.bearer"},
		{"/v1/targets/leak", `{"type":"http","url":"http://127.0.0.1:9/${env:EB_TEST_ADMIN_TOKEN}"}`, "spec.url"},
		{"/v1/rules/leak", fmt.Sprintf(`{"targets":["nope"],"transform":{"jq":"{x: \"${file:%s}\"}"}}`, secretFile), "spec.transform.jq"},
		{"/v1/rules/leak", `{"targets":["nope"],"filter":{"filters":[{"exact":{"type":"${env:EB_TEST_ADMIN_TOKEN}"}}]}}`, "spec.filter.filters[0].exact.type"},
	}
	for _, c := range cases {
		code, body := put(c.path, c.body)
		if code != 400 || strings.Contains(body, "MARKER") || !strings.Contains(body, c.field) || !strings.Contains(body, "${secret:NAME}") {
			t.Errorf("%s: %d %s", c.body, code, body)
		}
	}
	// A subscription may not use references either.
	code, body := raw(t, base, writeToken, "POST", "/v1/subscriptions",
		`{"sink":"https://8.8.8.8/hook","protocol":"HTTP","protocolsettings":{"headers":{"X":"${env:EB_TEST_ADMIN_TOKEN}"}}}`)
	if code != 400 || strings.Contains(body, "MARKER") || !strings.Contains(body, "protocolsettings.headers.X") {
		t.Errorf("subscription: %d %s", code, body)
	}
	// Nothing was stored.
	if code, body := raw(t, base, readToken, "GET", "/v1/targets", ""); code != 200 || strings.Contains(body, "leak") || strings.Contains(body, "echo") {
		t.Errorf("stored: %d %s", code, body)
	}
}

// A named secret of the config file reaches the target, while the API
// shows only its name.
func TestAPINamedSecret(t *testing.T) {
	t.Setenv("EB_TEST_CHAT_TOKEN", "MARKER-chat-55d1")
	sink := testkit.NewSink(t)
	b := startBridge(t, tokensYAML()+`  allow_private_addresses: true # the target posts to a loopback sink
secrets:
  chat-token: ${env:EB_TEST_CHAT_TOKEN}
sources: {in: {type: http, path: /events}}
`)
	base := "http://" + b.Addr()
	code, body := raw(t, base, writeToken, "PUT", "/v1/targets/chat",
		fmt.Sprintf(`{"type":"http","url":%q,"headers":{"Authorization":"${secret:chat-token}"}}`, sink.URL))
	if code != 201 || strings.Contains(body, "MARKER") || !strings.Contains(body, `"${secret:chat-token}"`) {
		t.Fatalf("create: %d %s", code, body)
	}
	if code, body = raw(t, base, writeToken, "PUT", "/v1/rules/r", `{"targets":["chat"]}`); code != 201 {
		t.Fatalf("rule: %d %s", code, body)
	}
	mustSend(t, b, "with-secret")
	testkit.Eventually(t, 10*time.Second, func() bool { return sink.Count() == 1 }, "not delivered")
	if got := sink.Events()[0].Header.Get("Authorization"); got != "MARKER-chat-55d1" {
		t.Errorf("the target sent %q", got)
	}
	for _, path := range []string{"/v1/targets/chat", "/v1/targets", "/v1/rules/r"} {
		if code, body := raw(t, base, readToken, "GET", path, ""); code != 200 || strings.Contains(body, "MARKER") {
			t.Errorf("GET %s: %d %s", path, code, body)
		}
	}
	// Names are not secret: an unknown one is named; a secret outside a
	// secret field is refused, without its value.
	code, body = raw(t, base, writeToken, "PUT", "/v1/targets/x", `{"type":"http","url":"http://127.0.0.1:9/","headers":{"A":"${secret:nope}"},"mode":"${secret:chat-token}"}`)
	if code != 400 || strings.Contains(body, "MARKER") || !strings.Contains(body, `no such secret: \"nope\"`) ||
		!strings.Contains(body, "spec.mode") || !strings.Contains(body, "only allowed in secret fields") {
		t.Errorf("misuse: %d %s", code, body)
	}
}

// rules:test on a stored rule runs it with its references as written: a
// read token cannot see what they hold.
func TestRulesTestDoesNotRevealReferences(t *testing.T) {
	t.Setenv("EB_TEST_RULE_SECRET", "MARKER-rule-0d4e")
	b := startBridge(t, tokensYAML()+`
targets: {t: {type: log}}
rules:
  r:
    transform: {jq: '{key: "${env:EB_TEST_RULE_SECRET}"}'}
    targets: [t]
`)
	code, body := raw(t, "http://"+b.Addr(), readToken, "POST", "/v1/rules:test",
		`{"rule":"r","events":[{"specversion":"1.0","id":"1","source":"/s","type":"t"}]}`)
	if code != 200 || strings.Contains(body, "MARKER") || !strings.Contains(body, "${env:EB_TEST_RULE_SECRET}") {
		t.Errorf("rules:test: %d %s", code, body)
	}
}

// A password in an outbound URL would be shown by GET, describe, logs and
// dead-letter errors: such URLs are refused, without being echoed.
func TestAPIRefusesCredentialsInURLs(t *testing.T) {
	b := startBridge(t, tokensYAML())
	base := "http://" + b.Addr()
	cases := []struct{ method, path, body, field string }{
		{"PUT", "/v1/targets/t", `{"type":"http","url":"http://user:MARKERpw@127.0.0.1:9/"}`, "spec.url"},
		{"PUT", "/v1/targets/t", `{"type":"http","url":"http://127.0.0.1:9/","auth":{"oauth2":{"token_url":"https://id:MARKERpw@auth.example/token","client_id":"c","client_secret":"s"}}}`, "spec.auth.oauth2.token_url"},
		{"PUT", "/v1/sources/s", `{"type":"poll","url":"https://user:MARKERpw@api.example/items","every":"1m"}`, "spec.url"},
		{"POST", "/v1/subscriptions", `{"sink":"https://user:MARKERpw@8.8.8.8/hook","protocol":"HTTP"}`, "sink"},
	}
	for _, c := range cases {
		code, body := raw(t, base, writeToken, c.method, c.path, c.body)
		if code != 400 || strings.Contains(body, "MARKER") || !strings.Contains(body, c.field) || !strings.Contains(body, "user name or password") {
			t.Errorf("%s: %d %s", c.body, code, body)
		}
	}
	for _, path := range []string{"/v1/targets", "/v1/sources", "/v1/subscriptions"} {
		if code, body := raw(t, base, readToken, "GET", path, ""); code != 200 || strings.Contains(body, "MARKER") {
			t.Errorf("GET %s: %d %s", path, code, body)
		}
	}
}
