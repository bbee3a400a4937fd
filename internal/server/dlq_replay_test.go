package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

func TestDeadLettersListRedrivePurge(t *testing.T) {
	sink := testkit.NewSink(t)
	sink.SetStatus(func(int64) int { return http.StatusBadRequest })
	b := startBridge(t, yamlf(`
sources: {in: {type: http, path: /events}}
targets: {out: {type: http, url: %q}}
rules: {r: {targets: [out]}}
`, sink.URL))
	c := api(t, b)
	for i := 0; i < 12; i++ {
		if code := sendEvent(t, b, "/events", "/test", fmt.Sprintf("d%d", i), []string{"com.a", "com.b"}[i%2]); code != 202 {
			t.Fatal(code)
		}
	}
	testkit.Eventually(t, 10*time.Second, func() bool { return streamMsgs(t, b, bus.StreamDLQ) == 12 }, "not dead-lettered")

	_, _, m := c.do("GET", "/v1/rules/r/deadletters?limit=5", "")
	items := m["items"].([]any)
	if len(items) != 5 || m["next_page_token"] == nil {
		t.Fatalf("page: %v", m)
	}
	first := items[0].(map[string]any)
	if first["reason"] != "permanent" || first["last_status"] != float64(400) || first["target"] != "out" || first["event"].(map[string]any)["id"] == nil {
		t.Errorf("letter %v", first)
	}
	_, _, m = c.do("GET", "/v1/rules/r/deadletters?type=com.b", "")
	if len(m["items"].([]any)) != 6 {
		t.Errorf("type filter: %d", len(m["items"].([]any)))
	}
	id := fmt.Sprint(int(first["id"].(float64)))
	if code, _, one := c.do("GET", "/v1/rules/r/deadletters/"+id, ""); code != 200 || one["id"] != first["id"] {
		t.Errorf("get one: %d %v", code, one)
	}
	if code, _, _ := c.do("GET", "/v1/rules/other/deadletters/"+id, ""); code != 404 {
		t.Errorf("letter of another rule: %d", code)
	}

	// The target is fixed; redrive one, then the com.a ones, with progress.
	sink.SetStatus(nil)
	code, hdr, m := c.do("POST", "/v1/rules/r/deadletters/"+id+":redrive", "")
	if code != 202 || !strings.HasPrefix(hdr.Get("Location"), "/v1/redrives/") {
		t.Fatalf("redrive one: %d %v", code, m)
	}
	testkit.Eventually(t, 10*time.Second, func() bool { return sink.Count() == 1 }, "redriven letter not delivered")
	code, hdr, _ = c.do("POST", "/v1/rules/r/deadletters:redrive", `{"type":"com.a"}`)
	if code != 202 {
		t.Fatalf("redrive set: %d", code)
	}
	testkit.Eventually(t, 10*time.Second, func() bool {
		_, _, op := c.do("GET", hdr.Get("Location"), "")
		return op["state"] == "succeeded"
	}, "redrive did not finish")
	_, _, op := c.do("GET", hdr.Get("Location"), "")
	if p := op["progress"].(map[string]any); p["done"] != float64(5) && p["done"] != float64(6) {
		t.Errorf("redrive progress %v", p)
	}
	testkit.Eventually(t, 10*time.Second, func() bool { return sink.Distinct() >= 6 }, "redriven set not delivered: %d", sink.Distinct())

	// Purge the rest.
	code, _, m = c.do("POST", "/v1/rules/r/deadletters:purge", "")
	if code != 200 || m["purged"].(float64) < 5 {
		t.Fatalf("purge: %d %v", code, m)
	}
	if got := streamMsgs(t, b, bus.StreamDLQ); got != 0 {
		t.Fatalf("DLQ holds %d after purge", got)
	}
}

func TestReplayDeliversArchivedEvents(t *testing.T) {
	sink := testkit.NewSink(t)
	b := startBridge(t, yamlf(`
sources: {in: {type: http, path: /events}}
targets: {out: {type: http, url: %q}}
rules:
  r: {targets: [out], filter: {filters: [{prefix: {type: com.keep}}]}}
`, sink.URL))
	c := api(t, b)
	from := time.Now().Add(-time.Second)
	for i := 0; i < 10; i++ {
		mustSendType(t, b, fmt.Sprintf("k%d", i), "com.keep")
		mustSendType(t, b, fmt.Sprintf("x%d", i), "com.other")
	}
	testkit.Eventually(t, 10*time.Second, func() bool { return sink.Count() == 10 }, "live delivery")
	to := time.Now().Add(time.Second)
	code, hdr, m := c.do("POST", "/v1/replays", fmt.Sprintf(`{"rule":"r","from":%q,"to":%q}`, from.UTC().Format(time.RFC3339Nano), to.UTC().Format(time.RFC3339Nano)))
	if code != 202 {
		t.Fatalf("replay: %d %v", code, m)
	}
	loc := hdr.Get("Location")
	testkit.Eventually(t, 15*time.Second, func() bool {
		_, _, op := c.do("GET", loc, "")
		return op["state"] == "succeeded"
	}, "replay did not finish")
	_, _, op := c.do("GET", loc, "")
	p := op["progress"].(map[string]any)
	if p["scanned"] != float64(20) || p["matched"] != float64(10) || p["delivered"] != float64(10) {
		t.Fatalf("replay progress %v", p)
	}
	testkit.Eventually(t, 5*time.Second, func() bool { return sink.Count() == 20 }, "replayed events not delivered")
	replayed := 0
	for _, e := range sink.Events() {
		if e.Header.Get("Ce-Replayed") == "true" {
			replayed++
		}
	}
	if replayed != 10 {
		t.Fatalf("%d events carry replayed=true, want 10", replayed)
	}
	if code, _, m := c.do("POST", "/v1/replays", `{"rule":"r"}`); code != 400 || !strings.Contains(toJSON(m), "from") {
		t.Errorf("bad replay request: %d %v", code, m)
	}
}

func mustSendType(t testing.TB, b interface{ Addr() string }, id, typ string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+b.Addr()+"/events", strings.NewReader(`{}`))
	req.Header.Set("ce-specversion", "1.0")
	req.Header.Set("ce-id", id)
	req.Header.Set("ce-source", "/test")
	req.Header.Set("ce-type", typ)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 202 {
		t.Fatalf("send: %v %v", err, resp)
	}
	resp.Body.Close()
}
