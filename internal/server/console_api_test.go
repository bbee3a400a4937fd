package server_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

// TestConsoleServedWithoutBypass: /ui/ is static files anyone may load;
// the data stays behind the API's tokens.
func TestConsoleServedWithoutBypass(t *testing.T) {
	t.Setenv("EB_ADMIN", "admin-token-0123456789")
	b := startBridge(t, `
api:
  tokens:
    admin: {token: "${env:EB_ADMIN}", scopes: [admin]}
targets: {t: {type: log}}
`)
	base := "http://" + b.Addr()
	get := func(path string) (*http.Response, string) {
		t.Helper()
		c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := c.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, string(body)
	}
	resp, body := get("/ui/")
	if resp.StatusCode != 200 || !strings.Contains(body, `src="js/app.js"`) || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src 'self'") {
		t.Fatalf("GET /ui/: %d %v", resp.StatusCode, resp.Header)
	}
	if resp, _ := get("/ui"); resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "/ui/" {
		t.Errorf("GET /ui: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	for _, path := range []string{"/ui/v1/targets", "/ui/js/../../v1/targets", "/ui/%2e%2e/v1/targets"} {
		if resp, body := get(path); resp.StatusCode == 200 && strings.Contains(body, `"items"`) {
			t.Errorf("%s serves API data without a token", path)
		}
	}
	for _, path := range []string{"/v1/targets", "/v1/whoami", "/v1/activity"} {
		if resp, _ := get(path); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s without a token: %d", path, resp.StatusCode)
		}
	}
}

// TestConsoleAPI: whoami, the activity counters, and YAML specs whose
// errors name their lines.
func TestConsoleAPI(t *testing.T) {
	t.Setenv("EB_ADMIN", "admin-token-0123456789")
	t.Setenv("EB_READER", "reader-token-0123456789")
	sink := testkit.NewSink(t)
	b := startBridge(t, yamlf(`
api:
  allow_private_addresses: true
  tokens:
    admin: {token: "${env:EB_ADMIN}", scopes: [admin]}
    reader: {token: "${env:EB_READER}", scopes: [read]}
sources: {in: {type: http, path: /events}}
targets: {out: {type: http, url: %q}}
rules: {r: {sources: [in], targets: [out]}}
`, sink.URL))
	admin := apiClient{t: t, base: "http://" + b.Addr(), token: "admin-token-0123456789"}
	reader := apiClient{t: t, base: admin.base, token: "reader-token-0123456789"}
	if code, _, m := reader.do("GET", "/v1/whoami", ""); code != 200 || m["name"] != "reader" || m["scope"] != "read" {
		t.Errorf("whoami (reader): %d %v", code, m)
	}
	if code, _, m := admin.do("GET", "/v1/whoami", ""); code != 200 || m["scope"] != "admin" {
		t.Errorf("whoami (admin): %d %v", code, m)
	}

	mustSend(t, b, "a1")
	mustSend(t, b, "a2")
	testkit.Eventually(t, 30*time.Second, func() bool { return sink.Count() == 2 }, "not delivered")
	// The sink counts a delivery when it receives it; the bridge counts
	// it once the answer is back: wait for the activity to show both.
	var m map[string]any
	testkit.Eventually(t, 30*time.Second, func() bool {
		_, _, m = reader.do("GET", "/v1/activity", "")
		tot, _ := m["totals"].(map[string]any)
		d := 0.0
		vals, _ := tot["delivered"].([]any)
		for _, v := range vals {
			d += v.(float64)
		}
		return d >= 2
	}, "activity does not show both deliveries")
	total := func(series any) float64 {
		s := 0.0
		vals, _ := series.([]any)
		for _, v := range vals {
			s += v.(float64)
		}
		if len(vals) != 15 {
			t.Errorf("%d buckets, want 15", len(vals))
		}
		return s
	}
	tot, _ := m["totals"].(map[string]any)
	if total(tot["in"]) != 2 || total(tot["delivered"]) != 2 || m["bucket_seconds"] != float64(60) {
		t.Errorf("activity totals: %v", m)
	}
	rules, _ := m["rules"].(map[string]any)
	rule, _ := rules["r"].(map[string]any)
	targets, _ := m["targets"].(map[string]any)
	target, _ := targets["out"].(map[string]any)
	if total(rule["matched"]) != 2 || total(target["delivered"]) != 2 {
		t.Errorf("activity per rule and target: %v %v", rules, targets)
	}

	// A YAML spec: errors at their lines.
	yamlPut := func(path, body string) (int, map[string]any) {
		return admin.do2("PUT", path, body, "application/yaml")
	}
	code, m := yamlPut("/v1/rules/y", "sources: [in]\nfilter:\n  sql: \"type = 'x'\"\ntargets:\n  - out\n  - nosuch\n")
	errs, _ := m["errors"].([]any)
	if code != 400 || len(errs) != 1 || errs[0].(map[string]any)["line"] != float64(6) {
		t.Fatalf("bad YAML rule: %d %v", code, m)
	}
	code, m = yamlPut("/v1/rules/y", "sources: [in\ntargets: [out]\n")
	errs, _ = m["errors"].([]any)
	if code != 400 || len(errs) != 1 || errs[0].(map[string]any)["line"] == nil {
		t.Errorf("YAML syntax error: %d %v", code, m)
	}
	if code, m = yamlPut("/v1/rules/y", "- a list\n"); code != 400 {
		t.Errorf("YAML list: %d %v", code, m)
	}
	if code, m = yamlPut("/v1/rules/y", "sources: [in]\ntargets: [out]\nfilter:\n  sql: \"type = 'x'\"\n"); code != 201 {
		t.Fatalf("good YAML rule: %d %v", code, m)
	}
	if spec, _ := m["spec"].(map[string]any); spec["filter"].(map[string]any)["sql"] != "type = 'x'" {
		t.Errorf("stored spec %v", m["spec"])
	}
	if code, _, _ := admin.do("PUT", "/v1/rules/y", "targets: [out]", "Content-Type", "text/plain"); code != http.StatusUnsupportedMediaType {
		t.Errorf("text/plain: %d", code)
	}
}

// do2 is do with a content type.
func (c apiClient) do2(method, path, body, ctype string) (int, map[string]any) {
	c.t.Helper()
	code, _, m := c.do(method, path, body, "Content-Type", ctype)
	return code, m
}
