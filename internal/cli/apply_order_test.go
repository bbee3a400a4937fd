package cli

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

// TestApplyDependencyOrder checks that apply -f creates targets, then
// rules, then sources (the rules naming the file's sources as pending),
// whatever the order of the file, and that delete -f removes rules first,
// then sources, then targets.
func TestApplyDependencyOrder(t *testing.T) {
	isolate(t)
	var (
		mu   sync.Mutex
		puts []string
		dels []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		switch r.Method {
		case http.MethodGet:
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"title":"Not Found","status":404,"code":"not_found"}`))
		case http.MethodPut:
			p := r.URL.Path
			if r.URL.RawQuery != "" {
				p += "?" + r.URL.RawQuery
			}
			puts = append(puts, p)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusCreated)
			_, _ = w.Write([]byte(`{}`))
		case http.MethodDelete:
			dels = append(dels, r.URL.Path)
			w.WriteHeader(http.StatusNoContent)
		default:
			w.WriteHeader(http.StatusMethodNotAllowed)
		}
	}))
	t.Cleanup(srv.Close)

	file := writeFile(t, "pipeline.yaml", `sources:
  orders:
    type: http
    path: /orders
rules:
  to-hook:
    sources: [orders]
    targets: [hook]
targets:
  hook:
    type: http
    url: http://127.0.0.1:1/hook
`)
	res := cli(t, srv.URL, "apply", "-f", file)
	if res.code != 0 {
		t.Fatalf("apply: %v", res)
	}
	mu.Lock()
	got := slices.Clone(puts)
	mu.Unlock()
	want := []string{"/v1/targets/hook", "/v1/rules/to-hook?pending_sources=orders", "/v1/sources/orders"}
	if !slices.Equal(got, want) {
		t.Fatalf("PUT order = %v, want %v", got, want)
	}

	res = cli(t, srv.URL, "delete", "-f", file)
	if res.code != 0 {
		t.Fatalf("delete: %v", res)
	}
	mu.Lock()
	got = slices.Clone(dels)
	mu.Unlock()
	want = []string{"/v1/rules/to-hook", "/v1/sources/orders", "/v1/targets/hook"}
	if !slices.Equal(got, want) {
		t.Fatalf("DELETE order = %v, want %v", got, want)
	}
}

// TestApplySourceBacklogReachesRule: a poll source's first run (at start)
// is delivered by the rule of the same file, because apply writes the rule
// before the source; the rule existed when the source first fetched.
func TestApplySourceBacklogReachesRule(t *testing.T) {
	sink := testkit.NewSink(t)
	var (
		mu          sync.Mutex
		fetches     int
		ruleAtFirst = -1
		bridgeURL   string
	)
	feed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		fetches++
		first, base := fetches == 1, bridgeURL
		mu.Unlock()
		if first {
			resp, err := http.Get(base + "/v1/rules/feed-to-sink")
			code := 0
			if err == nil {
				code = resp.StatusCode
				resp.Body.Close()
			}
			mu.Lock()
			ruleAtFirst = code
			mu.Unlock()
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`[{"id":1},{"id":2},{"id":3}]`))
	}))
	t.Cleanup(feed.Close)
	url := startBridge(t, `
api: {allow_private_addresses: true} # the applied source and target are on loopback
`)
	mu.Lock()
	bridgeURL = url
	mu.Unlock()
	file := writeFile(t, "feed.yaml", fmt.Sprintf(`sources:
  feed:
    type: poll
    url: %s/items
    every: 1h
    items: '.[]'
    id: '.id'
rules:
  feed-to-sink:
    sources: [feed]
    targets: [sink]
targets:
  sink: {type: http, url: %q}
`, feed.URL, sink.URL))
	if r := cli(t, url, "apply", "-f", file); r.code != 0 {
		t.Fatalf("apply: %v", r)
	}
	testkit.Eventually(t, 30*time.Second, func() bool { return sink.Distinct() == 3 }, "the first run's events were not delivered: %d", sink.Distinct())
	mu.Lock()
	defer mu.Unlock()
	if ruleAtFirst != http.StatusOK {
		t.Fatalf("the rule did not exist when the source first ran (GET: %d)", ruleAtFirst)
	}
}
