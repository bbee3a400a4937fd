package filter

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/goccy/go-yaml"
)

type dialectCase struct {
	Name    string `yaml:"name"`
	Filters []any  `yaml:"filters"`
	Events  []struct {
		Match bool           `yaml:"match"`
		Attrs map[string]any `yaml:"attrs"`
	} `yaml:"events"`
}

func baseEvent(t *testing.T, attrs map[string]any) *ce.Event {
	t.Helper()
	m := map[string]any{"specversion": "1.0", "id": "1", "source": "/base", "type": "com.example.base"}
	for k, v := range attrs {
		m[k] = v
	}
	b, _ := json.Marshal(m)
	e := ce.New()
	if err := e.UnmarshalJSON(b); err != nil {
		t.Fatalf("event %s: %v", b, err)
	}
	return &e
}

func TestDialects(t *testing.T) {
	raw, err := os.ReadFile("testdata/dialects.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cases []dialectCase
	if err := yaml.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			f, err := Compile(Spec{Filters: tc.Filters})
			if err != nil {
				t.Fatalf("compile: %v", err)
			}
			for i, ev := range tc.Events {
				if got := f.Match(NewInput(baseEvent(t, ev.Attrs))); got != ev.Match {
					t.Errorf("event %d %v: match = %v, want %v", i, ev.Attrs, got, ev.Match)
				}
			}
		})
	}
}

func TestInvalidFilters(t *testing.T) {
	raw, err := os.ReadFile("testdata/invalid.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Spec   map[string]any `yaml:"spec"`
		Path   string         `yaml:"path"`
		Reason string         `yaml:"reason"`
	}
	if err := yaml.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		b, _ := json.Marshal(tc.Spec)
		var s Spec
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatal(err)
		}
		_, err := Compile(s)
		var fes Errors
		if !errors.As(err, &fes) {
			t.Errorf("%s: error %v, want filter.Errors", b, err)
			continue
		}
		found := false
		for _, fe := range fes {
			if fe.Path == tc.Path && strings.Contains(fe.Reason, tc.Reason) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: got %v; want path %q with %q", b, err, tc.Path, tc.Reason)
		}
	}
}

// The normative dialect examples of the Subscriptions API spec compile.
func TestSubscriptionsSpecExamplesCompile(t *testing.T) {
	files, _ := filepath.Glob("testdata/subscriptions/spec_*.json")
	compiled := 0
	for _, f := range files {
		raw, _ := os.ReadFile(f)
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			continue // templates with placeholders, not JSON
		}
		m, ok := v.(map[string]any)
		if !ok || len(m) != 1 {
			continue
		}
		for k := range m {
			switch k {
			case "exact", "prefix", "suffix", "all", "any", "not", "sql":
			default:
				continue
			}
		}
		if _, err := Compile(Spec{Filters: []any{v}}); err != nil {
			t.Errorf("%s: %v", f, err)
		}
		compiled++
	}
	if compiled < 7 {
		t.Fatalf("compiled %d spec examples, want the 7 dialect examples", compiled)
	}
}

func TestMatcher(t *testing.T) {
	m, err := NewMatcher([]Rule{
		{Name: "all"},
		{Name: "push", Spec: Spec{Filters: []any{map[string]any{"exact": map[string]any{"type": "com.github.push"}}}}},
		{Name: "sql", Spec: Spec{SQL: "source = '/base'"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := m.Match(NewInput(baseEvent(t, map[string]any{"type": "com.github.push"})), nil)
	if len(got) != 3 {
		t.Fatalf("match = %v, want all three", got)
	}
	got = m.Match(NewInput(baseEvent(t, map[string]any{"source": "/x"})), got[:0])
	if len(got) != 1 || m.Name(got[0]) != "all" {
		t.Fatalf("match = %v, want [all]", got)
	}
	if _, err := NewMatcher([]Rule{{Name: "bad", Spec: Spec{SQL: "type ="}}}); err == nil || !strings.Contains(err.Error(), "rule bad") {
		t.Fatalf("bad rule: %v", err)
	}
}
