package server_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
	"github.com/eventbridge-dev/eventbridge/internal/config"
	"github.com/eventbridge-dev/eventbridge/internal/server"
	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

type apiClient struct {
	t     *testing.T
	base  string
	token string
}

func (c apiClient) do(method, path, body string, hdr ...string) (int, http.Header, map[string]any) {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return resp.StatusCode, resp.Header, m
}

func api(t *testing.T, b *server.Bridge) apiClient {
	return apiClient{t: t, base: "http://" + b.Addr()}
}

func TestAPIResourcesLifecycle(t *testing.T) {
	sink := testkit.NewSink(t)
	b := startBridge(t, `
secrets: {ref: ref-value}
api: {allow_private_addresses: true} # the API's target posts to a loopback sink
sources: {in: {type: http, path: /events}}
targets: {filelog: {type: log}}
rules: {fromfile: {targets: [filelog], filter: {sql: "type = 'never'"}}}
`)
	c := api(t, b)
	// Create a target and a rule through the API: events flow at once.
	code, hdr, m := c.do("PUT", "/v1/targets/out", fmt.Sprintf(`{"type":"http","url":%q,"headers":{"X-Key":"literal-secret","X-Ref":"${secret:ref}"},"labels":{"team":"a"}}`, sink.URL))
	if code != 201 || hdr.Get("ETag") == "" {
		t.Fatalf("create target: %d %v", code, m)
	}
	spec := m["spec"].(map[string]any)
	headers := spec["headers"].(map[string]any)
	if headers["X-Key"] != "***" || headers["X-Ref"] != "${secret:ref}" {
		t.Errorf("secrets not redacted: %v", headers)
	}
	if code, _, m = c.do("PUT", "/v1/rules/api-rule", `{"targets":["out"],"filter":{"filters":[{"prefix":{"type":"com.example."}}]}}`); code != 201 {
		t.Fatalf("create rule: %d %v", code, m)
	}
	if st := m["status"].(map[string]any); st["state"] != "running" {
		t.Errorf("rule status %v", st)
	}
	mustSend(t, b, "via-api")
	testkit.Eventually(t, 10*time.Second, func() bool { return sink.Count() == 1 }, "event not delivered through the API-made rule")
	if got := sink.Events()[0].Header.Get("X-Key"); got != "literal-secret" {
		t.Errorf("target header %q", got)
	}

	// Sending back the redacted spec keeps the stored secret.
	code, _, m = c.do("GET", "/v1/targets/out", "")
	if code != 200 {
		t.Fatalf("get: %d", code)
	}
	specJSON, _ := json.Marshal(m["spec"])
	rev := fmt.Sprint(m["revision"])
	if code, _, m = c.do("PUT", "/v1/targets/out", string(specJSON), "If-Match", `"`+rev+`"`); code != 200 {
		t.Fatalf("replace with If-Match: %d %v", code, m)
	}
	// The old revision is now stale.
	if code, _, _ = c.do("PUT", "/v1/targets/out", string(specJSON), "If-Match", `"`+rev+`"`); code != 412 {
		t.Fatalf("stale If-Match: %d, want 412", code)
	}
	mustSend(t, b, "after-replace")
	testkit.Eventually(t, 10*time.Second, func() bool { return sink.Count() == 2 }, "not delivered after replace")
	if got := sink.Events()[1].Header.Get("X-Key"); got != "literal-secret" {
		t.Errorf("secret lost on replace: %q", got)
	}

	// Validation names the field.
	code, _, m = c.do("PUT", "/v1/rules/bad", `{"targets":["nope"],"filter":{"pattern":{"data":{"n":[{"numeric":[">",5,"<",1]}]}}}}`)
	if code != 400 || !strings.Contains(toJSON(m), "spec.targets[0]") || !strings.Contains(toJSON(m), "spec.filter.pattern.data.n[0].numeric") {
		t.Errorf("invalid rule: %d %v", code, m)
	}
	if code, _, _ = c.do("PUT", "/v1/rules/x", `{"targets":["out"],"bogus":1}`); code != 400 {
		t.Errorf("unknown field: %d", code)
	}
	// Config-file resources are read-only.
	if code, _, m = c.do("PUT", "/v1/targets/filelog", `{"type":"log"}`); code != 409 || !strings.Contains(toJSON(m), "config file") {
		t.Errorf("file resource: %d %v", code, m)
	}
	if code, _, _ = c.do("DELETE", "/v1/rules/fromfile", ""); code != 409 {
		t.Errorf("delete file resource: %d", code)
	}
	// A target in use cannot go.
	if code, _, m = c.do("DELETE", "/v1/targets/out", ""); code != 409 || !strings.Contains(toJSON(m), "api-rule") {
		t.Errorf("delete used target: %d %v", code, m)
	}
	// Labels and pages.
	_, _, _ = c.do("PUT", "/v1/targets/other", `{"type":"log","labels":{"team":"b"}}`)
	if _, _, m = c.do("GET", "/v1/targets?label=team=a", ""); len(m["items"].([]any)) != 1 {
		t.Errorf("label filter: %v", m)
	}
	_, _, m = c.do("GET", "/v1/targets?limit=2", "")
	if len(m["items"].([]any)) != 2 || m["next_page_token"] == nil {
		t.Fatalf("page 1: %v", m)
	}
	_, _, m = c.do("GET", "/v1/targets?limit=2&page_token="+m["next_page_token"].(string), "")
	if len(m["items"].([]any)) != 1 {
		t.Errorf("page 2: %v", m)
	}
	// Delete the rule, then the target.
	if code, _, _ = c.do("DELETE", "/v1/rules/api-rule", ""); code != 204 {
		t.Fatalf("delete rule: %d", code)
	}
	if code, _, _ = c.do("DELETE", "/v1/targets/out", ""); code != 204 {
		t.Fatalf("delete target: %d", code)
	}
	if code, _, _ = c.do("GET", "/v1/targets/out", ""); code != 404 {
		t.Errorf("deleted target: %d", code)
	}
	testkit.Eventually(t, 5*time.Second, func() bool { return b.Health().Components["route/api-rule/out"].State == 0 }, "route still running")
}

func TestAPIPauseKeepsEventsOnDisk(t *testing.T) {
	sink := testkit.NewSink(t)
	b := startBridge(t, yamlf(`
sources: {in: {type: http, path: /events}}
targets: {out: {type: http, url: %q}}
rules: {r: {targets: [out]}}
`, sink.URL))
	c := api(t, b)
	if code, _, m := c.do("POST", "/v1/rules/r:pause", ""); code != 200 || m["paused"] != true || m["status"].(map[string]any)["state"] != "paused" {
		t.Fatalf("pause: %d %v", code, m)
	}
	for i := 0; i < 20; i++ {
		mustSend(t, b, fmt.Sprintf("p%d", i))
	}
	testkit.Eventually(t, 5*time.Second, func() bool { return streamMsgs(t, b, bus.StreamRetry) == 20 }, "paused events not on disk")
	testkit.Never(t, 300*time.Millisecond, func() bool { return sink.Count() > 0 }, "a paused rule delivered")
	if code, _, _ := c.do("POST", "/v1/rules/r:resume", ""); code != 200 {
		t.Fatalf("resume: %d", code)
	}
	testkit.Eventually(t, 10*time.Second, func() bool { return sink.Distinct() == 20 }, "resumed rule delivered %d of 20", sink.Distinct())
}

func TestAPIResourcesSurviveRestart(t *testing.T) {
	sink := testkit.NewSink(t)
	cfg, err := config.Parse([]byte(`
api: {allow_private_addresses: true} # the API's target posts to a loopback sink
sources: {in: {type: http, path: /events}}`))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Bus.DataDir = t.TempDir()
	cfg.API.Listen = "127.0.0.1:0"
	b := startBridgeConfig(t, cfg)
	c := api(t, b)
	if code, _, m := c.do("PUT", "/v1/targets/out", fmt.Sprintf(`{"type":"http","url":%q}`, sink.URL)); code != 201 {
		t.Fatalf("PUT target: %d %v", code, m)
	}
	if code, _, m := c.do("PUT", "/v1/rules/r", `{"targets":["out"]}`); code != 201 {
		t.Fatalf("PUT rule: %d %v", code, m)
	}
	if err := stopBridge(b); err != nil {
		t.Fatal(err)
	}
	b2 := startBridgeConfig(t, cfg)
	mustSend(t, b2, "after-restart")
	testkit.Eventually(t, 10*time.Second, func() bool { return sink.Count() == 1 }, "API resources lost on restart")
	if _, _, m := api(t, b2).do("GET", "/v1/rules/r", ""); m["origin"] != "api" {
		t.Errorf("origin %v", m["origin"])
	}
}

func TestAPIAuth(t *testing.T) {
	t.Setenv("EB_ADMIN", "admin-token-0123456789")
	b := startBridge(t, `
api:
  tokens:
    admin: {token: "${env:EB_ADMIN}", scopes: [admin]}
    reader: {sha256: "`+sha256hex("reader-token-0123456789")+`", scopes: [read]}
targets: {t: {type: log}}
`)
	anon := api(t, b)
	if code, hdr, _ := anon.do("GET", "/v1/targets", ""); code != 401 || !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("no token: %d %v", code, hdr)
	}
	bad := apiClient{t: t, base: anon.base, token: "wrong-token-0123456789"}
	if code, _, _ := bad.do("GET", "/v1/targets", ""); code != 401 {
		t.Errorf("bad token: %d", code)
	}
	reader := apiClient{t: t, base: anon.base, token: "reader-token-0123456789"}
	if code, _, _ := reader.do("GET", "/v1/targets", ""); code != 200 {
		t.Errorf("reader GET: %d", code)
	}
	if code, _, m := reader.do("PUT", "/v1/targets/x", `{"type":"log"}`); code != 403 || m["code"] != "forbidden" {
		t.Errorf("reader PUT: %d %v", code, m)
	}
	admin := apiClient{t: t, base: anon.base, token: "admin-token-0123456789"}
	if code, _, _ := admin.do("PUT", "/v1/targets/x", `{"type":"log"}`); code != 201 {
		t.Errorf("admin PUT: %d", code)
	}
	// Health and metrics stay open for probes and scrapers.
	if resp, err := http.Get(anon.base + "/readyz"); err != nil || resp.StatusCode != 200 {
		t.Errorf("readyz behind auth: %v", err)
	}
}

// Concurrent updates with the same If-Match: exactly one wins, the others
// get 412.
func TestAPIConcurrentIfMatch(t *testing.T) {
	b := startBridge(t, "")
	c := api(t, b)
	_, hdr, _ := c.do("PUT", "/v1/targets/t", `{"type":"log","file":"/dev/null"}`)
	etag := hdr.Get("ETag")
	const n = 8
	codes := make(chan int, n)
	for i := 0; i < n; i++ {
		go func() {
			code, _, _ := c.do("PUT", "/v1/targets/t", fmt.Sprintf(`{"type":"log","file":"/dev/null","description":"writer %d"}`, i), "If-Match", etag)
			codes <- code
		}()
	}
	won, lost := 0, 0
	for i := 0; i < n; i++ {
		switch <-codes {
		case 200:
			won++
		case 412:
			lost++
		}
	}
	if won != 1 || lost != n-1 {
		t.Fatalf("%d won, %d got 412; want exactly one winner", won, lost)
	}
}
