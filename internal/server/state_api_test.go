package server_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/server"
	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

// postCE posts a binary-mode event with the given ce- headers (id, source,
// type, subject and extensions) to path.
func postCE(t testing.TB, b *server.Bridge, path, data string, attrs ...string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+b.Addr()+path, strings.NewReader(data))
	req.Header.Set("ce-specversion", "1.0")
	req.Header.Set("ce-type", "com.example.changed")
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(attrs); i += 2 {
		req.Header.Set("ce-"+attrs[i], attrs[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("post %v: %d", attrs, resp.StatusCode)
	}
}

func items(m map[string]any) []map[string]any {
	var out []map[string]any
	l, _ := m["items"].([]any)
	for _, it := range l {
		out = append(out, it.(map[string]any))
	}
	return out
}

func eventID(e map[string]any) string {
	ev, _ := e["event"].(map[string]any)
	s, _ := ev["id"].(string)
	return s
}

func TestStateAPI(t *testing.T) {
	b := startBridge(t, `
sources:
  in: {type: http, path: /events}
  ran: {type: http, path: /ran, state_key: "{clustername}/{resourceid}"}
`)
	c := api(t, b)
	postCE(t, b, "/events", `{"v":1}`, "id", "1", "source", "/n1", "subject", "cpu")
	postCE(t, b, "/events", `{"v":2}`, "id", "2", "source", "/n1", "subject", "cpu")
	postCE(t, b, "/events", `{"v":3}`, "id", "3", "source", "/n1", "subject", "mem")
	postCE(t, b, "/events", `{"v":4}`, "id", "4", "source", "/n2")
	postCE(t, b, "/ran", `{"state":"LOCKED"}`, "id", "5", "source", "/cluster/node/ptp", "clustername", "c1", "resourceid", "ens1f0")
	postCE(t, b, "/ran", `{"state":"FREERUN"}`, "id", "6", "source", "/cluster/node/ptp", "clustername", "c1", "resourceid", "ens1f0")

	var m map[string]any
	testkit.Eventually(t, 60*time.Second, func() bool {
		_, _, m = c.do("GET", "/v1/state", "")
		return len(items(m)) == 4
	}, "state never held 4 entries: %v", m)

	code, _, m := c.do("GET", "/v1/state?source=/n1&subject=cpu", "")
	if it := items(m); code != 200 || len(it) != 1 || eventID(it[0]) != "2" || it[0]["key"] != "/n1#cpu" || it[0]["resource"] != "in" {
		t.Fatalf("(/n1, cpu): %d %v", code, m)
	}
	if ev := items(m)[0]["event"].(map[string]any); ev["data"].(map[string]any)["v"] != float64(2) || ev["specversion"] != "1.0" {
		t.Errorf("event not in CloudEvents JSON: %v", ev)
	}
	if code, _, m = c.do("GET", "/v1/state?source=/n1", ""); code != 200 || len(items(m)) != 2 {
		t.Fatalf("source /n1: %d %v", code, m)
	}
	if code, _, m = c.do("GET", "/v1/state?resource=ran", ""); code != 200 || len(items(m)) != 1 || eventID(items(m)[0]) != "6" {
		t.Fatalf("resource ran: %d %v", code, m)
	}
	if code, _, m = c.do("GET", "/v1/state?limit=1", ""); code != 200 || len(items(m)) != 1 {
		t.Fatalf("limit 1: %d %v", code, m)
	}
	if code, _, m = c.do("GET", "/v1/state?key=c1/ens1f0", ""); code != 200 || len(items(m)) != 1 || eventID(items(m)[0]) != "6" {
		t.Fatalf("key c1/ens1f0: %d %v", code, m)
	}
	if code, _, m = c.do("GET", "/v1/state?key_prefix=c1/", ""); code != 200 || len(items(m)) != 1 {
		t.Fatalf("key_prefix: %d %v", code, m)
	}
	if code, _, m = c.do("GET", "/v1/state/c1/ens1f0", ""); code != 200 || eventID(m) != "6" || m["source"] != "/cluster/node/ptp" {
		t.Fatalf("GET /v1/state/c1/ens1f0: %d %v", code, m)
	}
	if code, _, m = c.do("GET", "/v1/state/"+url.PathEscape("/n1#mem"), ""); code != 200 || eventID(m) != "3" {
		t.Fatalf("GET /v1/state/<default key>: %d %v", code, m)
	}

	// The state's lag is a metric.
	b.RefreshGauges()
	resp, err := http.Get("http://" + b.Addr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(metrics), `eventbridge_consumer_pending{consumer="state"`) {
		t.Errorf("no eventbridge_consumer_pending of the state consumer in /metrics")
	}

	// Not found, and bad queries.
	for _, path := range []string{"/v1/state?key=nope", "/v1/state?source=/n1&subject=disk", "/v1/state/nope", "/v1/state?key=c1/ens1f0&source=/other"} {
		code, hdr, m := c.do("GET", path, "")
		if code != 404 || !strings.HasPrefix(hdr.Get("Content-Type"), "application/problem+json") || m["detail"] == nil {
			t.Errorf("%s: %d %s %v, want a 404 problem", path, code, hdr.Get("Content-Type"), m)
		}
	}
	if code, _, m = c.do("GET", "/v1/state?source=/none", ""); code != 200 || len(items(m)) != 0 || m["items"] == nil {
		t.Errorf("empty list: %d %v", code, m)
	}
	code, _, m = c.do("GET", "/v1/state?sorce=/n1", "")
	if code != 400 || !strings.Contains(m["detail"].(string), "sorce") {
		t.Errorf("unknown parameter: %d %v", code, m)
	}
	if errs, _ := m["errors"].([]any); len(errs) != 1 || errs[0].(map[string]any)["field"] != "sorce" {
		t.Errorf("unknown parameter not named in errors: %v", m)
	}
	if code, _, m = c.do("GET", "/v1/state?limit=0", ""); code != 400 {
		t.Errorf("limit 0: %d %v", code, m)
	}

	// A source's state_key is checked, and the problem names the field.
	code, _, m = c.do("PUT", "/v1/sources/bad", `{"type":"http","path":"/bad","state_key":"{clustername"}`)
	if code != 400 || !strings.Contains(m["detail"].(string), "state_key") {
		t.Fatalf("invalid state_key: %d %v", code, m)
	}
	if errs, _ := m["errors"].([]any); len(errs) == 0 || errs[0].(map[string]any)["field"] != "spec.state_key" {
		t.Errorf("invalid state_key: field not named: %v", m)
	}
}

func TestStateAPIReadScopeAndDisabled(t *testing.T) {
	t.Setenv("EB_STATE_READER", "state-reader-token-0123456789")
	b := startBridge(t, `
api:
  tokens:
    reader: {token: "${env:EB_STATE_READER}", scopes: [read]}
sources: {in: {type: http, path: /events}}
`)
	anon := api(t, b)
	if code, _, _ := anon.do("GET", "/v1/state", ""); code != 401 {
		t.Errorf("no token: %d", code)
	}
	reader := apiClient{t: t, base: anon.base, token: "state-reader-token-0123456789"}
	if code, _, m := reader.do("GET", "/v1/state", ""); code != 200 {
		t.Errorf("read scope: %d %v", code, m)
	}

	off := startBridge(t, `
state: {enabled: false}
sources: {in: {type: http, path: /events}}
`)
	if off.State() != nil {
		t.Fatal("state kept with state.enabled false")
	}
	mustSend(t, off, "x")
	if code, _, m := api(t, off).do("GET", "/v1/state", ""); code != 404 || !strings.Contains(m["detail"].(string), "state.enabled") {
		t.Errorf("disabled: %d %v", code, m)
	}
}
