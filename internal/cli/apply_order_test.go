package cli

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
)

// TestApplyDependencyOrder checks that apply -f creates targets, then
// sources, then the rules that name them, whatever the order of the file,
// and that delete -f removes rules first, then sources, then targets.
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
			puts = append(puts, r.URL.Path)
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
	want := []string{"/v1/targets/hook", "/v1/sources/orders", "/v1/rules/to-hook"}
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
