package cli

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

func TestStateVerb(t *testing.T) {
	url := startBridge(t, `
sources: {in: {type: http, path: /events}}
`)
	for i, data := range []string{`{"v":1}`, `{"v":2}`} {
		if r := cli(t, "", "send", "--url", url+"/events", "--type", "com.example.t", "--source", "/node-1",
			"--subject", "cpu", "--id", string(rune('a'+i)), "--data", data); r.code != 0 {
			t.Fatalf("send: %v", r)
		}
	}
	var r result
	testkit.Eventually(t, 60*time.Second, func() bool {
		r = cli(t, url, "state", "--source", "/node-1", "--subject", "cpu", "-o", "json")
		return r.code == 0 && strings.Contains(r.out, `"id": "b"`)
	}, "state -o json: %v", r)
	var body struct {
		Items []struct {
			Key   string         `json:"key"`
			Event map[string]any `json:"event"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(r.out), &body); err != nil || len(body.Items) != 1 || body.Items[0].Key != "/node-1#cpu" ||
		body.Items[0].Event["data"].(map[string]any)["v"] != float64(2) {
		t.Fatalf("state -o json: %v %v", err, r)
	}

	r = cli(t, url, "state")
	wantInOrder(t, "table", r.out, "KEY", "SOURCE", "SUBJECT", "TYPE", "ID", "/node-1#cpu", "/node-1", "cpu", "com.example.t", "b")
	if r = cli(t, url, "state", "--key", "/node-1#cpu", "-o", "yaml"); r.code != 0 || !strings.Contains(r.out, `key: "/node-1#cpu"`) {
		t.Fatalf("state --key -o yaml: %v", r)
	}
	if r = cli(t, url, "state", "--key", "nope"); r.code != codeFailed || !strings.Contains(r.err, "nope") {
		t.Fatalf("state --key nope: %v", r)
	}
	if r = cli(t, url, "state", "--source", "/nobody"); r.code != 0 || !strings.Contains(r.out, "No state.") {
		t.Fatalf("empty: %v", r)
	}
	if r = cli(t, url, "state", "--limit", "0"); r.code != codeUsage {
		t.Fatalf("--limit 0: %v", r)
	}
	if r = cli(t, url, "state", "--help"); r.code != 0 || !strings.Contains(r.out, "the last event") || !strings.Contains(r.out, "--key-prefix") {
		t.Fatalf("--help: %v", r)
	}
}
