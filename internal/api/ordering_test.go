package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/eventbridge-dev/eventbridge/internal/api/problem"
	"github.com/eventbridge-dev/eventbridge/internal/resource"
)

// A rule's ordering key is an attribute name or a jq expression; anything
// else is refused with the field named, and a good one is stored as sent.
func TestAPIRuleOrdering(t *testing.T) {
	h := newAPIHarness(t)
	h.stored(t, resource.KindTarget, "t", resource.OriginAPI, goodTarget)
	for _, body := range []string{
		`{"targets":["t"],"ordering":{}}`,
		`{"targets":["t"],"ordering":{"key":""}}`,
		`{"targets":["t"],"ordering":{"key":".data.order_id |"}}`,
		`{"targets":["t"],"ordering":{"key":"` + strings.Repeat("x", 2000) + `"}}`,
	} {
		p := h.wantProblem(t, call{method: "PUT", path: "/v1/rules/r", body: body}, problem.InvalidResource, "spec.ordering.key")
		if len(p.Errors) != 1 {
			t.Errorf("%s: errors %+v, want one", body, p.Errors)
		}
	}
	for _, key := range []string{"partitionkey", ".data.order_id", `[.source, .subject]`} {
		resp, body := h.do(t, call{method: "PUT", path: "/v1/rules/r", body: `{"targets":["t"],"ordering":{"key":` + quote(key) + `}}`})
		if resp.StatusCode/100 != 2 {
			t.Fatalf("ordering key %s: %d %s", key, resp.StatusCode, body)
		}
		resp, body = h.do(t, call{method: "GET", path: "/v1/rules/r"})
		var got struct {
			Spec resource.Rule `json:"spec"`
		}
		if err := json.Unmarshal(body, &got); err != nil || resp.StatusCode != http.StatusOK || got.Spec.Ordering == nil || got.Spec.Ordering.Key != key {
			t.Errorf("ordering key %s: GET answered %d %s (%v)", key, resp.StatusCode, body, err)
		}
	}
}

func quote(s string) string {
	return `"` + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `"`, `\"`) + `"`
}
