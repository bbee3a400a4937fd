package config

import (
	"errors"
	"strings"
	"testing"

	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

// An unknown type must not hide the other resources' problems, and every
// problem carries its line.
func TestParseReportsEveryResourceWithLine(t *testing.T) {
	const cfg = `targets:
  ok: {type: log}
  first:
    type: bogus
  second:
    type: http
    url: "ftp://example.com/"
sources:
  third:
    type: nope
rules:
  r:
    sources: [third]
    targets: [first, second, ok]
  r2:
    targets: [ok]
    retrys: 3
`
	_, err := Parse([]byte(cfg))
	var ve *spec.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("want a ValidationError, got %v", err)
	}
	want := []struct {
		path, reason string
		line         int
	}{
		{"targets.first.type", `unknown type "bogus"`, 4},
		{"targets.second.url", "http", 7},
		{"sources.third.type", `unknown type "nope"`, 10},
		{"rules.r2", `unknown field "retrys"`, 17},
	}
	for _, w := range want {
		found := false
		for _, p := range ve.Problems {
			if p.Path == w.path && strings.Contains(p.Reason, w.reason) {
				found = true
				if p.Line != w.line {
					t.Errorf("%s: line %d, want %d", w.path, p.Line, w.line)
				}
			}
		}
		if !found {
			t.Errorf("no problem %s (%s) in:\n%s", w.path, w.reason, String(err))
		}
	}
	// The rule naming the undecodable resources is not blamed for them.
	if len(ve.Problems) != len(want) {
		t.Errorf("%d problems, want %d:\n%s", len(ve.Problems), len(want), String(err))
	}
}
