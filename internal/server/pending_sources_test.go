package server_test

import (
	"strings"
	"testing"
)

// A rule may name a source that does not exist yet only when the caller
// says it creates it next (pending_sources, as apply does); any other
// missing source is still refused.
func TestRulePendingSources(t *testing.T) {
	b := startBridge(t, `
targets: {out: {type: log, file: /dev/null}}
`)
	base := "http://" + b.Addr()
	rule := `{"sources":["later"],"targets":["out"]}`
	if code, body := raw(t, base, "", "PUT", "/v1/rules/r", rule); code != 400 || !strings.Contains(body, `no source named \"later\"`) {
		t.Fatalf("missing source: %d %s", code, body)
	}
	if code, body := raw(t, base, "", "PUT", "/v1/rules/r?pending_sources=other", rule); code != 400 {
		t.Fatalf("another pending source: %d %s", code, body)
	}
	if code, body := raw(t, base, "", "PUT", "/v1/rules/r?pending_sources=x,later", rule); code != 201 {
		t.Fatalf("pending source: %d %s", code, body)
	}
	if code, body := raw(t, base, "", "PUT", "/v1/sources/later", `{"type":"http","path":"/later"}`); code != 201 {
		t.Fatalf("the source: %d %s", code, body)
	}
}
