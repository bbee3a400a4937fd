package config

import (
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/parser"
)

// manyRules is a config with n rules with realistic patterns (as the
// server's TestRulesScale).
func manyRules(n int) []byte {
	var sb strings.Builder
	sb.WriteString("sources: {in: {type: http, path: /events}}\ntargets: {out: {type: http, url: \"http://127.0.0.1:9/\"}}\nrules:\n")
	for i := range n {
		var p string
		switch i % 4 {
		case 0:
			p = fmt.Sprintf(`{"type": [{"prefix": "svc%d."}], "data": {"region": [{"anything-but": ["eu-%d"]}]}}`, i, i)
		case 1:
			p = fmt.Sprintf(`{"type": ["billing.invoice.%d"], "data": {"amount": [{"numeric": [">", %d, "<=", %d]}]}}`, i, i, i*10)
		case 2:
			p = fmt.Sprintf(`{"source": [{"prefix": "urn:app:%d"}], "data": {"status": ["failed", "error-%d"]}}`, i, i)
		default:
			p = fmt.Sprintf(`{"type": [{"anything-but": {"prefix": "order."}}], "data": {"tenant": ["t%d"], "level": [{"numeric": [">", 3]}]}}`, i)
		}
		fmt.Fprintf(&sb, "  r%05d: {targets: [out], filter: {pattern: %s}}\n", i, p)
	}
	return []byte(sb.String())
}

// TestParseManyRulesCost fails if parsing a config with many rules gets
// expensive again: bytes allocated per rule (the garbage made at start-up,
// which also fragments the heap the rules live in), not time. At 2,000
// rules it was 73.5 KB per rule before each rule was read once, 53 KB
// after, 46 KB once the rules section was parsed in chunks (allocation is
// deterministic enough for a bound 20% above).
func TestParseManyRulesCost(t *testing.T) {
	const n = 2000
	text := manyRules(n)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	c, err := Parse(text)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(String(err))
	}
	if len(c.Rules) != n || len(c.Objects()) != n+2 {
		t.Fatalf("%d rules, %d objects", len(c.Rules), len(c.Objects()))
	}
	per := float64(after.TotalAlloc-before.TotalAlloc) / n
	t.Logf("parse: %.1f KB allocated per rule", per/1024)
	// The race detector allocates about a quarter more.
	limit := 56.0
	if raceOn {
		limit = 70
	}
	if per > limit*1024 {
		t.Errorf("parse allocates %.1f KB per rule, want < %.0f KB", per/1024, limit)
	}
}

// TestParseRuleProblemLines: a rule refused by the plain decode is decoded
// from the YAML, so that its problem keeps its line.
func TestParseRuleProblemLines(t *testing.T) {
	text := "targets: {out: {type: http, url: \"http://127.0.0.1:9/\"}}\nrules:\n  ok: {targets: [out]}\n  bad:\n    targets: [out]\n    colour: red\n"
	_, err := Parse([]byte(text))
	if err == nil {
		t.Fatal("no error")
	}
	if s := String(err); !strings.Contains(s, "line 6") || !strings.Contains(s, "colour") {
		t.Errorf("problem %q, want line 6 and the field", s)
	}
}

// TestPlainValueAsYAMLDecodes: the fast read of a rule gives the JSON
// that yaml.NodeToValue gives, and leaves what it does not know to it.
func TestPlainValueAsYAMLDecodes(t *testing.T) {
	docs := []string{
		"a: {targets: [out], filter: {pattern: {\"type\": [{\"prefix\": \"x.\"}], \"data\": {\"n\": [{\"numeric\": [\">\", 3, \"<=\", 2.5e3]}]}}}}",
		"a:\n  targets:\n    - out\n  n: -7\n  big: 18446744073709551615\n  f: 1.5\n  b: true\n  no: no\n  z: ~\n  q: \"123\"\n  lit: |\n    two\n    lines\n  fold: >\n    folded\n    text\n",
		"a: {x: 0x1f, y: 0o17, inf: .inf, t: !!str 5, s: &anc {k: v}, u: *anc}",
		"a:\n  <<: {k: v}\n  j: 1\n",
	}
	for _, d := range docs {
		f, err := parser.ParseBytes([]byte(d), 0)
		if err != nil {
			t.Fatal(err)
		}
		n := lookup(f, "a")
		entries.drop(f)
		if n == nil {
			t.Fatalf("%q: no node", d)
		}
		var want any
		if err := yaml.NodeToValue(n, &want); err != nil {
			t.Fatal(err)
		}
		wb, _ := json.Marshal(jsonable(want))
		if got := nodeJSON(n); string(got) != string(wb) {
			t.Errorf("%q:\n got %s\nwant %s", d, got, wb)
		}
	}
}

// TestParseManyRulesLinear fails if the parse's cost stops being linear in
// the rules: bytes allocated per rule at 8,000 rules against 1,000. The
// YAML parser's block mappings copied their entries quadratically (at
// 10,000 rules, 40 KB more per rule than at 1,000) before the rules
// section was parsed in chunks.
func TestParseManyRulesLinear(t *testing.T) {
	if testing.Short() {
		t.Skip("parses 9,000 rules")
	}
	per := func(n int) float64 {
		text := manyRules(n)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		c, err := Parse(text)
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatal(String(err))
		}
		if len(c.Rules) != n {
			t.Fatalf("%d rules", len(c.Rules))
		}
		return float64(after.TotalAlloc-before.TotalAlloc) / float64(n)
	}
	small, large := per(1000), per(8000)
	t.Logf("parse: %.1f KB per rule at 1,000, %.1f KB at 8,000 (%.2f×)", small/1024, large/1024, large/small)
	if large > 1.25*small {
		t.Errorf("parse allocates %.1f KB per rule at 8,000 rules, %.2f× the %.1f KB at 1,000: want ≤ 1.25×", large/1024, large/small, small/1024)
	}
}

// TestParseRuleReferences: a rule's references are expanded (and refused
// where not allowed) whether or not the parse could skip the expansion of
// the rules without any.
func TestParseRuleReferences(t *testing.T) {
	t.Setenv("EB_RULE_DESC", "from the environment")
	text := string(manyRules(3)) + "  withref: {targets: [out], description: \"${env:EB_RULE_DESC}\"}\n  literal: {targets: [out], description: \"$${env:EB_RULE_DESC}\"}\n"
	c, err := Parse([]byte(text))
	if err != nil {
		t.Fatal(String(err))
	}
	if d := c.Rules["withref"].Description; d != "from the environment" {
		t.Errorf("description %q, want the variable's value", d)
	}
	if d := c.Rules["literal"].Description; d != "${env:EB_RULE_DESC}" {
		t.Errorf("description %q, want the literal", d)
	}
	_, err = Parse([]byte(string(manyRules(3)) + "  bad: {targets: [out], description: \"${env:EB_RULE_UNSET_VAR}\"}\n"))
	if err == nil || !strings.Contains(String(err), "rules.bad.description") || !strings.Contains(String(err), "EB_RULE_UNSET_VAR") {
		t.Errorf("unset variable: %v", err)
	}
}
