package server_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

func TestArchiveEventTypesAndStream(t *testing.T) {
	b := startBridge(t, `
sources: {in: {type: http, path: /events}, other: {type: http, path: /other}}
targets: {t: {type: log, file: /dev/null}}
rules: {r: {targets: [t]}}
`)
	c := api(t, b)
	start := time.Now().UTC()
	for i := 0; i < 6; i++ {
		mustSendType(t, b, fmt.Sprintf("a%d", i), []string{"com.a", "com.b"}[i%2])
	}
	if code := sendEvent(t, b, "/other", "/elsewhere", "o1", "com.a"); code != 202 {
		t.Fatal(code)
	}
	_, _, m := c.do("GET", "/v1/events?type=com.a", "")
	if n := len(m["items"].([]any)); n != 4 {
		t.Fatalf("type filter: %d items: %v", n, m)
	}
	_, _, m = c.do("GET", "/v1/events?source_name=other", "")
	items := m["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["source_name"] != "other" {
		t.Fatalf("source_name filter: %v", m)
	}
	_, _, m = c.do("GET", "/v1/events?limit=3&from="+start.Add(-time.Second).Format(time.RFC3339Nano), "")
	if len(m["items"].([]any)) != 3 || m["next_page_token"] == nil {
		t.Fatalf("page 1: %v", m)
	}
	_, _, m = c.do("GET", "/v1/events?limit=3&page_token="+m["next_page_token"].(string), "")
	if len(m["items"].([]any)) != 3 {
		t.Fatalf("page 2: %v", m)
	}
	_, _, m = c.do("GET", "/v1/events?source=/elsewhere", "")
	if len(m["items"].([]any)) != 1 {
		t.Fatalf("source filter: %v", m)
	}

	testkit.Eventually(t, 5*time.Second, func() bool {
		_, _, m := c.do("GET", "/v1/eventtypes", "")
		return len(m["items"].([]any)) == 3
	}, "event types not discovered")
	_, _, m = c.do("GET", "/v1/eventtypes", "")
	first := m["items"].([]any)[0].(map[string]any)
	if first["count"] == nil || first["schema"].(map[string]any)["type"] != "object" {
		t.Errorf("event type %v", first)
	}

	// Live stream: connect, send, read one SSE event.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+b.Addr()+"/v1/events:stream?type=com.live", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream: %v %v", err, resp)
	}
	defer resp.Body.Close()
	rd := bufio.NewReader(resp.Body)
	_, _ = rd.ReadString('\n') // the opening comment
	mustSendType(t, b, "not-this", "com.other")
	mustSendType(t, b, "live-1", "com.live")
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			t.Fatalf("stream read: %v", err)
		}
		if strings.HasPrefix(line, "data: ") {
			if !strings.Contains(line, `"id":"live-1"`) {
				t.Fatalf("streamed %s", line)
			}
			break
		}
	}
}

// TestArchiveOrder: order=desc lists the archive newest first and pages
// on backwards; an unknown query parameter is refused by name.
func TestArchiveOrder(t *testing.T) {
	b := startBridge(t, `
sources: {in: {type: http, path: /events}}
targets: {t: {type: log, file: /dev/null}}
rules: {r: {targets: [t]}}
`)
	c := api(t, b)
	for i := 1; i <= 5; i++ {
		mustSendType(t, b, fmt.Sprintf("e%d", i), "com.a")
	}
	ids := func(m map[string]any) string {
		var out []string
		for _, it := range m["items"].([]any) {
			out = append(out, it.(map[string]any)["event"].(map[string]any)["id"].(string))
		}
		return strings.Join(out, ",")
	}
	code, _, m := c.do("GET", "/v1/events?order=desc", "")
	if code != 200 || ids(m) != "e5,e4,e3,e2,e1" || m["next_page_token"] != nil {
		t.Fatalf("desc: %d %v", code, m)
	}
	_, _, m = c.do("GET", "/v1/events?order=desc&limit=2", "")
	if ids(m) != "e5,e4" || m["next_page_token"] == nil {
		t.Fatalf("desc page 1: %v", m)
	}
	_, _, m = c.do("GET", "/v1/events?order=desc&limit=2&page_token="+m["next_page_token"].(string), "")
	if ids(m) != "e3,e2" || m["next_page_token"] == nil {
		t.Fatalf("desc page 2: %v", m)
	}
	_, _, m = c.do("GET", "/v1/events?order=desc&limit=2&page_token="+m["next_page_token"].(string), "")
	if ids(m) != "e1" || m["next_page_token"] != nil {
		t.Fatalf("desc page 3: %v", m)
	}
	_, _, m = c.do("GET", "/v1/events?order=asc&limit=3", "")
	if ids(m) != "e1,e2,e3" {
		t.Fatalf("asc: %v", m)
	}
	_, _, m = c.do("GET", "/v1/events?order=asc&limit=4", "")
	fourth := m["items"].([]any)[3].(map[string]any)["stored"].(string)
	_, _, m = c.do("GET", "/v1/events?order=desc&from="+fourth, "")
	if ids(m) != "e5,e4" {
		t.Fatalf("desc from the 4th: %v", m)
	}
	_, _, m = c.do("GET", "/v1/events?order=desc&to="+fourth, "")
	if ids(m) != "e4,e3,e2,e1" {
		t.Fatalf("desc to the 4th: %v", m)
	}
	_, _, m = c.do("GET", "/v1/events?order=desc&type=com.b", "")
	if ids(m) != "" {
		t.Fatalf("desc, no match: %v", m)
	}
	for _, q := range []string{"sort=desc", "order=newest", "limit=2&ordre=desc"} {
		param, _, _ := strings.Cut(q[strings.LastIndex(q, "&")+1:], "=")
		code, _, m := c.do("GET", "/v1/events?"+q, "")
		if code != 400 || m["code"] != "invalid-request" || !strings.Contains(toJSON(m), `"field":"`+param+`"`) {
			t.Errorf("%s: %d %v", q, code, m)
		}
	}
}

// TestArchiveOrderDescManyWindows: newest first over an archive larger
// than one read window, with a filter that leaves most windows empty.
func TestArchiveOrderDescManyWindows(t *testing.T) {
	b := startBridge(t, `
sources: {in: {type: http, path: /events}}
targets: {t: {type: log, file: /dev/null}}
rules: {r: {targets: [t]}}
`)
	var batch []string
	for i := 0; i < 900; i++ {
		typ := "com.common"
		if i%300 == 7 {
			typ = "com.rare" // e7, e307, e607
		}
		batch = append(batch, fmt.Sprintf(`{"specversion":"1.0","id":"e%d","source":"/s","type":%q}`, i, typ))
	}
	resp, err := http.Post("http://"+b.Addr()+"/events", "application/cloudevents-batch+json", strings.NewReader("["+strings.Join(batch, ",")+"]"))
	if err != nil || resp.StatusCode != 202 {
		t.Fatalf("batch: %v %v", err, resp)
	}
	resp.Body.Close()
	c := api(t, b)
	testkit.Eventually(t, 10*time.Second, func() bool {
		_, _, m := c.do("GET", "/v1/events?order=desc&limit=1", "")
		items := m["items"].([]any)
		return len(items) == 1 && items[0].(map[string]any)["event"].(map[string]any)["id"] == "e899"
	}, "the batch is not archived")

	var got []string
	token := ""
	for pages := 0; ; pages++ {
		_, _, m := c.do("GET", "/v1/events?order=desc&limit=100&page_token="+token, "")
		for _, it := range m["items"].([]any) {
			got = append(got, it.(map[string]any)["event"].(map[string]any)["id"].(string))
		}
		if m["next_page_token"] == nil || pages > 20 {
			break
		}
		token = m["next_page_token"].(string)
	}
	if len(got) != 900 || got[0] != "e899" || got[299] != "e600" || got[899] != "e0" {
		t.Fatalf("%d events, newest first: %v … %v", len(got), got[:min(3, len(got))], got[max(0, len(got)-3):])
	}
	_, _, m := c.do("GET", "/v1/events?order=desc&type=com.rare&limit=2", "")
	if ids := toJSON(m["items"]); !strings.Contains(ids, `"e607"`) || !strings.Contains(ids, `"e307"`) || m["next_page_token"] == nil {
		t.Fatalf("rare, page 1: %v", m)
	}
	_, _, m = c.do("GET", "/v1/events?order=desc&type=com.rare&limit=2&page_token="+m["next_page_token"].(string), "")
	if items := m["items"].([]any); len(items) != 1 || !strings.Contains(toJSON(items), `"e7"`) || m["next_page_token"] != nil {
		t.Fatalf("rare, page 2: %v", m)
	}
}
