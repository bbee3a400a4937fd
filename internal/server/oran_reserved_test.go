package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestOranReservedNames: rules and targets named oran-… are the ones
// O-RAN subscriptions run as; the main API refuses them with a 400
// problem naming the field, as it does subscription-…. Sources are free
// to use the prefix.
func TestOranReservedNames(t *testing.T) {
	b := startBridge(t, `
api: {allow_private_addresses: true}
targets: {t: {type: log}}
`)
	c := api(t, b)
	for _, tc := range []struct{ path, body string }{
		{"/v1/rules/oran-x", `{"targets":["t"]}`},
		{"/v1/rules/oran-4f1c2a5e-0d1b-4c1e-9a34-0b7c8c3e9d21", `{"targets":["t"]}`},
		{"/v1/targets/oran-x", `{"type":"log"}`},
	} {
		code, hdr, m := c.do("PUT", tc.path, tc.body)
		if code != http.StatusBadRequest {
			t.Errorf("PUT %s: %d %v, want 400", tc.path, code, m)
			continue
		}
		if ct := hdr.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
			t.Errorf("PUT %s: Content-Type %q", tc.path, ct)
		}
		errs, _ := m["errors"].([]any)
		if len(errs) != 1 || fmt.Sprint(errs[0].(map[string]any)["field"]) != "name" ||
			!strings.Contains(fmt.Sprint(m["detail"]), `"oran-"`) {
			t.Errorf("PUT %s: problem %v", tc.path, m)
		}
		if code, _, _ := c.do("GET", tc.path, ""); code != http.StatusNotFound {
			t.Errorf("GET %s after a refused PUT: %d", tc.path, code)
		}
	}
	// Names that only look alike are not reserved.
	if code, _, m := c.do("PUT", "/v1/rules/oranx", `{"targets":["t"]}`); code != http.StatusCreated {
		t.Errorf("PUT rule oranx: %d %v", code, m)
	}
	if code, _, m := c.do("PUT", "/v1/sources/oran-ptp", `{"type":"http","path":"/oran-ptp"}`); code != http.StatusCreated {
		t.Errorf("PUT source oran-ptp: %d %v", code, m)
	}
}
