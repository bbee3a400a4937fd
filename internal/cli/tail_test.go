package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/testkit"
	"github.com/eventbridge-dev/eventbridge/internal/testkit/bridgetest"
)

func TestTail(t *testing.T) {
	url := startBridge(t, `
sources: {in: {type: http, path: /events}}
targets: {t: {type: log, file: /dev/null}}
rules: {r: {targets: [t]}}
`)
	for _, format := range []string{"line", "json"} {
		t.Run(format, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			var out, errb syncBuffer
			root := NewRoot(&out, &errb)
			root.SetArgs([]string{"--server", url, "tail", "--type", "com.live", "--source-name", "in", "-o", format})
			done := make(chan int, 1)
			go func() { done <- report(&errb, root.ExecuteContext(ctx)) }()
			testkit.Eventually(t, 10*time.Second, func() bool { return strings.Contains(errb.String(), "streaming live events") }, "not connected: %s", errb.String())
			bridgetest.Send(t, url, "/events", "/test", "not-this-"+format, "com.other")
			// Send until one arrives: the subscription may lag the answer.
			for i := 0; !strings.Contains(out.String(), "com.live"); i++ {
				if i == 200 {
					t.Fatalf("no event tailed: %q %q", out.String(), errb.String())
				}
				bridgetest.Send(t, url, "/events", "/test", fmt.Sprintf("live-%s-%d", format, i), "com.live")
				time.Sleep(20 * time.Millisecond)
			}
			cancel() // Ctrl-C
			select {
			case code := <-done:
				if code != 0 {
					t.Fatalf("exit %d: %s", code, errb.String())
				}
			case <-time.After(10 * time.Second):
				t.Fatal("tail did not stop")
			}
			first, _, _ := strings.Cut(out.String(), "\n")
			if strings.Contains(out.String(), "not-this") {
				t.Errorf("filtered event tailed: %s", out.String())
			}
			switch format {
			case "line":
				if f := strings.Fields(first); len(f) != 5 || f[1] != "com.live" || f[2] != "/test" || !strings.HasPrefix(f[3], "live-line-") || f[4] != `{"n":1}` {
					t.Errorf("line %q", first)
				}
			case "json":
				var ev map[string]any
				if err := json.Unmarshal([]byte(first), &ev); err != nil || ev["type"] != "com.live" || ev["data"].(map[string]any)["n"] != float64(1) {
					t.Errorf("json %q: %v", first, err)
				}
			}
		})
	}
}

func TestEventsAndEventTypes(t *testing.T) {
	url := startBridge(t, `
sources: {in: {type: http, path: /events}}
targets: {t: {type: log, file: /dev/null}}
rules: {r: {targets: [t]}}
`)
	for i := range 4 {
		bridgetest.Send(t, url, "/events", "/shop", fmt.Sprintf("e%d", i), []string{"com.a", "com.b"}[i%2])
	}
	r := cli(t, url, "events", "--type", "com.a")
	wantInOrder(t, "events", r.out, "SEQ", "STORED", "SOURCE NAME", "TYPE", "SOURCE", "ID", "in", "com.a", "/shop", "e0", "com.a", "e2")
	if strings.Contains(r.out, "com.b") {
		t.Errorf("--type: %v", r)
	}
	if r = cli(t, url, "events", "--limit", "3", "--from", "1h"); strings.Count(r.out, "/shop") != 3 || !strings.Contains(r.out, "more not shown") {
		t.Errorf("--limit: %v", r)
	}
	if r = cli(t, url, "events", "--source-name", "in", "-o", "line"); strings.Count(r.out, "\n") != 4 {
		t.Errorf("-o line: %v", r)
	}
	r = cli(t, url, "events", "--order", "desc", "--limit", "3", "-o", "json")
	wantInOrder(t, "--order desc", r.out, `"id": "e3"`, `"id": "e2"`, `"id": "e1"`)
	if strings.Contains(r.out, `"e0"`) {
		t.Errorf("--order desc --limit 3: %v", r)
	}
	if r = cli(t, url, "events", "--order", "newest"); r.code != 2 {
		t.Errorf("bad --order: %v", r)
	}
	if r = cli(t, url, "events", "--from", "x"); r.code != 2 {
		t.Errorf("bad --from: %v", r)
	}

	testkit.Eventually(t, 5*time.Second, func() bool {
		return strings.Count(cli(t, url, "eventtypes").out, "/shop") == 2
	}, "event types not seen")
	r = cli(t, url, "eventtypes")
	wantInOrder(t, "eventtypes", r.out, "TYPE", "SOURCE", "COUNT", "FIRST SEEN", "LAST SEEN", "CONTENT TYPE", "com.a", "/shop", "2")
	r = cli(t, url, "eventtypes", "-o", "json")
	var l struct {
		Items []struct {
			Type   string
			Schema map[string]any
		}
	}
	if err := json.Unmarshal([]byte(r.out), &l); err != nil || len(l.Items) != 2 || l.Items[0].Schema["type"] != "object" {
		t.Errorf("eventtypes -o json: %v %v", err, r)
	}
	if r = cli(t, url, "eventtypes", "-o", "yaml"); !strings.Contains(r.out, "schema:") {
		t.Errorf("eventtypes -o yaml: %v", r)
	}
}
