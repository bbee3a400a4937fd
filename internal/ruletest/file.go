package ruletest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/google/go-cmp/cmp"

	"github.com/eventbridge-dev/eventbridge/internal/config"
	"github.com/eventbridge-dev/eventbridge/internal/resource"
)

// File is a rule test file (e.g. rules_test.yaml, kept beside a config).
//
//	config: eventbridge.yaml        # where named rules come from (relative to this file)
//	tests:
//	  - name: big orders are audited
//	    rule: orders-to-audit        # a rule of the config, or a rule spec inline
//	    events:
//	      - event: {specversion: "1.0", id: "1", source: /shop, type: com.example.order.created, data: {total: 42}}
//	        match: true
//	        output: {type: com.example.order.audited, data: {total: 42}}
//	      - event: {specversion: "1.0", id: "2", source: /shop, type: com.example.order.deleted}
//	        match: false
//
// output is compared as a subset: the members it lists must equal the
// output event's (data compared whole); members it omits are not checked.
// error: a substring the transform's error must contain.
type File struct {
	Config string `json:"config,omitempty"`
	Tests  []Test `json:"tests"`
}

// Test is one rule and its cases.
type Test struct {
	Name   string `json:"name"`
	Rule   any    `json:"rule"`
	Events []Case `json:"events"`
}

// Case is one event and what the rule must do with it.
type Case struct {
	Event  any            `json:"event"`
	Match  *bool          `json:"match,omitempty"`
	Output map[string]any `json:"output,omitempty"`
	Error  string         `json:"error,omitempty"`
}

// Report counts what a run found.
type Report struct {
	Cases, Failed int
}

// RunFile runs one test file, writing a line per failure (with a diff) and
// a summary to w.
func RunFile(ctx context.Context, path string, w io.Writer) (Report, error) {
	var rep Report
	raw, err := os.ReadFile(path)
	if err != nil {
		return rep, err
	}
	var f File
	if err := yaml.UnmarshalWithOptions(raw, &f, yaml.DisallowUnknownField()); err != nil {
		return rep, fmt.Errorf("%s: %s", path, yaml.FormatError(err, false, true))
	}
	var cfg *config.Config
	if f.Config != "" {
		cp := f.Config
		if !filepath.IsAbs(cp) {
			cp = filepath.Join(filepath.Dir(path), cp)
		}
		if cfg, err = config.Load(cp); err != nil {
			return rep, fmt.Errorf("%s: config %s:\n%s", path, cp, config.String(err))
		}
	}
	for ti, t := range f.Tests {
		name := t.Name
		if name == "" {
			name = fmt.Sprintf("tests[%d]", ti)
		}
		rule, err := ruleOf(t.Rule, cfg)
		if err != nil {
			rep.Failed++
			fmt.Fprintf(w, "FAIL %s: %s: %v\n", path, name, err)
			continue
		}
		comp, err := Compile(name, rule)
		if err != nil {
			rep.Failed++
			fmt.Fprintf(w, "FAIL %s: %s: %v\n", path, name, err)
			continue
		}
		for ci, c := range t.Events {
			rep.Cases++
			if msg := check(ctx, comp, c); msg != "" {
				rep.Failed++
				fmt.Fprintf(w, "FAIL %s: %s: events[%d]: %s\n", path, name, ci, msg)
			}
		}
	}
	return rep, nil
}

func check(ctx context.Context, comp *Compiled, c Case) string {
	ev, err := EventJSON(c.Event)
	if err != nil {
		return err.Error()
	}
	res := comp.Run(ctx, ev)
	if strings.HasPrefix(res.Error, "invalid event") {
		return res.Error
	}
	want := true
	if c.Match != nil {
		want = *c.Match
	}
	if res.Matched != want {
		return fmt.Sprintf("matched = %v, want %v", res.Matched, want)
	}
	if !res.Matched {
		return ""
	}
	if c.Error != "" {
		if !strings.Contains(res.Error, c.Error) {
			return fmt.Sprintf("error = %q, want one containing %q", res.Error, c.Error)
		}
		return ""
	}
	if res.Error != "" {
		return "transform failed: " + res.Error
	}
	if c.Output == nil {
		return ""
	}
	got := map[string]any{}
	for k := range c.Output {
		if v, ok := res.Output[k]; ok {
			got[k] = v
		}
	}
	want2 := normalize(c.Output).(map[string]any)
	if d := cmp.Diff(jsonRound(want2), jsonRound(got)); d != "" {
		return "output differs (-want +got):\n" + indent(d)
	}
	return ""
}

func ruleOf(v any, cfg *config.Config) (*resource.Rule, error) {
	switch r := v.(type) {
	case string:
		if cfg == nil {
			return nil, fmt.Errorf("rule %q named, but the file has no config", r)
		}
		rule, ok := cfg.Rules[r]
		if !ok {
			names := make([]string, 0, len(cfg.Rules))
			for n := range cfg.Rules {
				names = append(names, n)
			}
			sort.Strings(names)
			return nil, fmt.Errorf("%w %q (rules: %s)", ErrNoRule, r, strings.Join(names, ", "))
		}
		return rule, nil
	case nil:
		return nil, fmt.Errorf("rule: required (a name or a rule spec)")
	default:
		b, err := json.Marshal(normalize(r))
		if err != nil {
			return nil, err
		}
		var rule resource.Rule
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&rule); err != nil {
			return nil, fmt.Errorf("rule: %v", err)
		}
		return &rule, nil
	}
}

// jsonRound makes numbers and maps compare the way JSON sees them.
func jsonRound(v any) any {
	b, _ := json.Marshal(v)
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ")
}
