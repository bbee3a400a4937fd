package forward

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestForwardCopiesEventAndStatus(t *testing.T) {
	var got http.Header
	var body string
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		b, _ := io.ReadAll(r.Body)
		body = string(b)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer target.Close()

	f := &Forwarder{Target: target.URL, Client: target.Client()}
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"a":1}`))
	req.Header.Set("Ce-Id", "1")
	req.Header.Set("Ce-Time", "2026-01-01T00:00:00Z")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Other", "dropped")
	rr := httptest.NewRecorder()
	f.ServeHTTP(rr, req)

	if rr.Code != http.StatusNoContent {
		t.Fatalf("status %d, want the target's 204", rr.Code)
	}
	if got.Get("Ce-Id") != "1" || got.Get("Ce-Time") != "2026-01-01T00:00:00Z" ||
		got.Get("Content-Type") != "application/json" || got.Get("X-Other") != "" {
		t.Fatalf("forwarded headers %v", got)
	}
	if body != `{"a":1}` {
		t.Fatalf("forwarded body %q", body)
	}
}

func TestForwardTargetDown(t *testing.T) {
	f := &Forwarder{Target: "http://127.0.0.1:1/", Client: http.DefaultClient}
	rr := httptest.NewRecorder()
	f.ServeHTTP(rr, httptest.NewRequest(http.MethodPost, "/", strings.NewReader("{}")))
	if rr.Code != http.StatusBadGateway {
		t.Fatalf("status %d, want 502", rr.Code)
	}
}
