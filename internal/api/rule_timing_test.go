package api

import (
	"net/http"
	"testing"

	"github.com/eventbridge-dev/eventbridge/internal/api/problem"
)

// A rule's dedup and delay are checked like the rest of its spec: every
// problem is named by its field in one problem document.
func TestAPIRuleTimingValidation(t *testing.T) {
	h := newAPIHarness(t)
	if resp, body := h.do(t, call{method: "PUT", path: "/v1/targets/t", body: goodTarget}); resp.StatusCode != http.StatusCreated {
		t.Fatalf("target: %d %s", resp.StatusCode, body)
	}
	h.wantProblem(t, call{method: "PUT", path: "/v1/rules/r", body: `{"targets":["t"],"dedup":{"key":".data.[","window":"0s"},"delay":"48h"}`},
		problem.InvalidResource, "spec.dedup.key", "spec.dedup.window", "spec.delay")
	h.wantProblem(t, call{method: "PUT", path: "/v1/rules/r", body: `{"targets":["t"],"max_delay":"100000h"}`}, problem.InvalidResource, "spec.max_delay")
	body := `{"targets":["t"],"dedup":{"key":"githubdelivery","window":"10m"},"delay":"30s","max_delay":"1h"}`
	if resp, b := h.do(t, call{method: "PUT", path: "/v1/rules/r", body: body}); resp.StatusCode != http.StatusCreated {
		t.Fatalf("valid rule: %d %s", resp.StatusCode, b)
	}
}
