package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestRulesTestRoute(t *testing.T) {
	b := startBridge(t, `
targets: {t: {type: log}}
rules:
  orders:
    filter: {filters: [{prefix: {type: com.example.order.}}]}
    transform: {jq: '{total: .data.total}'}
    targets: [t]
`)
	post := func(body string) (int, map[string]any) {
		resp, err := http.Post("http://"+b.Addr()+"/v1/rules:test", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	code, m := post(`{"rule": "orders", "events": [
		{"specversion":"1.0","id":"1","source":"/s","type":"com.example.order.created","data":{"total":5}},
		{"specversion":"1.0","id":"2","source":"/s","type":"com.example.user.created"},
		{"id":"3"}]}`)
	if code != 200 {
		t.Fatalf("status %d %v", code, m)
	}
	res := m["results"].([]any)
	r0, r1, r2 := res[0].(map[string]any), res[1].(map[string]any), res[2].(map[string]any)
	if r0["matched"] != true || r0["output"].(map[string]any)["data"].(map[string]any)["total"] != float64(5) {
		t.Errorf("result 0: %v", r0)
	}
	if r1["matched"] != false || r1["output"] != nil {
		t.Errorf("result 1: %v", r1)
	}
	if !strings.Contains(r2["error"].(string), "invalid event") {
		t.Errorf("result 2: %v", r2)
	}
	// Inline rule with a jq runtime error: matched, with the error.
	code, m = post(`{"rule": {"transform": {"jq": ".data.total | ascii_downcase"}}, "events": [
		{"specversion":"1.0","id":"1","source":"/s","type":"x","data":{"total":5}}]}`)
	if code != 200 || !strings.Contains(m["results"].([]any)[0].(map[string]any)["error"].(string), "jq") {
		t.Errorf("inline: %d %v", code, m)
	}
	// A bad inline rule is refused with the path of the problem.
	code, m = post(`{"rule": {"filter": {"filters": [{"exact": {"type": 1}}]}}, "events": []}`)
	if code != 400 || !strings.Contains(toJSON(m), "rule.filter.filters[0].exact.type") {
		t.Errorf("bad rule: %d %v", code, m)
	}
	if code, _ = post(`{"rule": "nope", "events": []}`); code != 404 {
		t.Errorf("unknown rule: %d", code)
	}
}

func toJSON(v any) string { b, _ := json.Marshal(v); return string(b) }
