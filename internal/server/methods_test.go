package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/eventbridge-dev/eventbridge/internal/api/problem"
)

// TestWrongMethodIs405: a known path asked with a method it does not
// serve answers 405 with an Allow header and our problem document; an
// unknown path stays 404.
func TestWrongMethodIs405(t *testing.T) {
	b := startBridge(t, `
targets: {t: {type: log, file: /dev/null}}
rules: {r: {targets: [t]}}
`)
	for _, tc := range []struct {
		method, path string
		status       int
		allow        string
	}{
		{"PUT", "/v1/scheduler", 405, "GET, HEAD"},
		{"DELETE", "/v1/events", 405, "GET, HEAD"},
		// PUT /v1/loggers redirects to PUT /v1/loggers/{name...}.
		{"POST", "/v1/loggers", 405, "GET, HEAD, PUT"},
		{"GET", "/v1/loggers/x", 405, "PUT"},
		// POST /v1/rules/{action} (r:pause) has this path too.
		{"PATCH", "/v1/rules/r", 405, "DELETE, GET, HEAD, POST, PUT"},
		{"PUT", "/v1/replays", 405, "GET, HEAD, POST"},
		{"GET", "/v1/rules:test", 405, "POST"},
		{"POST", "/healthz", 405, "GET, HEAD"},
		{"GET", "/v1/nothing-here", 404, ""},
		{"PUT", "/v1/nothing-here", 404, ""},
	} {
		req, _ := http.NewRequest(tc.method, "http://"+b.Addr()+tc.path, strings.NewReader(`{}`))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var p problem.Problem
		derr := json.NewDecoder(resp.Body).Decode(&p)
		resp.Body.Close()
		name := tc.method + " " + tc.path
		if resp.StatusCode != tc.status {
			t.Errorf("%s: status %d, want %d", name, resp.StatusCode, tc.status)
			continue
		}
		if got := resp.Header.Get("Allow"); got != tc.allow {
			t.Errorf("%s: Allow %q, want %q", name, got, tc.allow)
		}
		if ct := resp.Header.Get("Content-Type"); ct != problem.ContentType || derr != nil {
			t.Errorf("%s: %s body (%v)", name, ct, derr)
			continue
		}
		wantCode := map[int]string{405: "method-not-allowed", 404: "not-found"}[tc.status]
		if p.Code != wantCode || p.Status != tc.status || p.Instance != tc.path {
			t.Errorf("%s: problem %+v", name, p)
		}
	}
}
