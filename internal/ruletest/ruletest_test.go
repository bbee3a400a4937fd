package ruletest

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/eventbridge-dev/eventbridge/internal/connector/all"
)

func TestQuickstartRuleTests(t *testing.T) {
	var out bytes.Buffer
	rep, err := RunFile(context.Background(), "../../examples/quickstart_test.yaml", &out)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failed != 0 || rep.Cases < 5 {
		t.Fatalf("%+v\n%s", rep, out.String())
	}
}

func TestFailuresAreReported(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.yaml")
	_ = os.WriteFile(cfg, []byte(`
targets: {t: {type: log}}
rules:
  r:
    filter: {filters: [{exact: {type: a}}]}
    transform: {jq: '{v: .data.v}'}
    targets: [t]
  boom:
    transform: {jq: '.data.v | ascii_downcase'}
    targets: [t]
`), 0o600)
	tf := filepath.Join(dir, "r_test.yaml")
	_ = os.WriteFile(tf, []byte(`
config: c.yaml
tests:
  - name: wrong match
    rule: r
    events:
      - event: {specversion: "1.0", id: "1", source: /s, type: b}
        match: true
  - name: wrong output
    rule: r
    events:
      - event: {specversion: "1.0", id: "1", source: /s, type: a, data: {v: 1}}
        output: {data: {v: 2}}
  - name: expected error
    rule: boom
    events:
      - event: {specversion: "1.0", id: "1", source: /s, type: a, data: {v: 1}}
        error: "cannot be applied"
  - name: unknown rule
    rule: nope
    events: []
  - name: invalid event
    rule: r
    events:
      - event: {id: "1"}
`), 0o600)
	var out bytes.Buffer
	rep, err := RunFile(context.Background(), tf, &out)
	if err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{
		"wrong match: events[0]: matched = false, want true",
		"wrong output: events[0]: output differs (-want +got)",
		"unknown rule: no such rule \"nope\" (rules: boom, r)",
		"invalid event: events[0]: invalid event",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("want %q in:\n%s", want, s)
		}
	}
	if strings.Contains(s, "expected error") {
		t.Errorf("expected error case failed:\n%s", s)
	}
	if rep.Failed != 4 {
		t.Errorf("failed = %d, want 4\n%s", rep.Failed, s)
	}
}
