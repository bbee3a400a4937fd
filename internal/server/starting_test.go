package server

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// TestUnknownPathWhileStarting: before the bridge has started, a path no
// route matches may be a source not mounted yet: 503 with Retry-After, so
// that a producer retries; once started, 404.
func TestUnknownPathWhileStarting(t *testing.T) {
	var started atomic.Bool
	m := newMux()
	m.started = started.Load
	post := func() *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		m.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/events", nil))
		return w
	}
	if w := post(); w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != "1" {
		t.Fatalf("while starting: %d, Retry-After %q; want 503 and 1", w.Code, w.Header().Get("Retry-After"))
	}
	started.Store(true)
	if w := post(); w.Code != http.StatusNotFound {
		t.Fatalf("started: %d, want 404", w.Code)
	}
	if _, err := m.Mount("/events", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusAccepted) })); err != nil {
		t.Fatal(err)
	}
	if w := post(); w.Code != http.StatusAccepted {
		t.Fatalf("mounted: %d, want 202", w.Code)
	}
}
