package filter

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
)

// Spec is a rule's filter as written in a config file or sent to the API.
// At most one of Pattern, Filters and SQL is set; none means "every event".
type Spec struct {
	// Pattern is an Amazon EventBridge event pattern (a JSON object) applied
	// to the event's JSON form.
	Pattern any `json:"pattern,omitempty" yaml:"pattern,omitempty"`
	// Filters are CloudEvents Subscriptions API filters (exact, prefix,
	// suffix, all, any, not, sql); all of them must match.
	Filters []any `json:"filters,omitempty" yaml:"filters,omitempty"`
	// SQL is a CESQL expression that must evaluate to TRUE.
	SQL string `json:"sql,omitempty" yaml:"sql,omitempty"`

	// compiled is the spec's filter once Prepare compiled it: Compile
	// returns it (a matcher of 10,000 rules is rebuilt at every rule
	// change without compiling every pattern again).
	compiled Filter
}

// Prepare returns s with its compiled filter kept in it, or the error
// Compile gives. A compiled filter is immutable and safe for concurrent
// use, so copies of the spec share it.
func Prepare(s Spec) (Spec, error) {
	f, err := Compile(s)
	if err != nil {
		return s, err
	}
	s.compiled = f
	return s, nil
}

// IsZero reports whether the spec sets no filter.
func (s Spec) IsZero() bool { return s.Pattern == nil && len(s.Filters) == 0 && s.SQL == "" }

// Error is a problem with a filter: where inside it, and why.
type Error struct {
	// Path locates the problem inside the spec, e.g. "filters[1].all[0].exact"
	// or "pattern.data.total[0].numeric".
	Path string
	// Reason says what is wrong.
	Reason string
}

func (e *Error) Error() string {
	if e.Path == "" {
		return e.Reason
	}
	return e.Path + ": " + e.Reason
}

// Errors is every problem found while compiling one spec.
type Errors []*Error

func (es Errors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "; ")
}

func errorf(path, format string, args ...any) *Error {
	return &Error{Path: path, Reason: fmt.Sprintf(format, args...)}
}

// Compile compiles one spec into a Filter. Its error is an Errors value
// listing every problem with its path.
func Compile(s Spec) (Filter, error) {
	if s.compiled != nil {
		return s.compiled, nil
	}
	var errs Errors
	set := 0
	if s.Pattern != nil {
		set++
	}
	if len(s.Filters) > 0 {
		set++
	}
	if s.SQL != "" {
		set++
	}
	if set > 1 {
		return nil, Errors{errorf("", "set only one of pattern, filters and sql")}
	}
	switch {
	case s.Pattern != nil:
		raw, err := json.Marshal(normalizeYAML(s.Pattern))
		if err != nil {
			return nil, Errors{errorf("pattern", "not JSON: %v", err)}
		}
		if f := lastPattern.get(raw); f != nil {
			return f, nil
		}
		f, err := compilePattern(raw)
		if err != nil {
			return nil, err
		}
		lastPattern.put(raw, f)
		return f, nil
	case len(s.Filters) > 0:
		fs := make([]Filter, 0, len(s.Filters))
		for i, d := range s.Filters {
			f := compileDialect(normalizeYAML(d), fmt.Sprintf("filters[%d]", i), &errs)
			fs = append(fs, f)
		}
		if len(errs) > 0 {
			return nil, errs
		}
		return allOf(fs), nil
	case s.SQL != "":
		f, err := compileSQL(s.SQL, "sql")
		if err != nil {
			return nil, Errors{err}
		}
		return f, nil
	}
	return matchAll, nil
}

// lastPattern is the pattern compiled last: a rule's spec is validated
// (compiled) and then prepared for the matcher (compiled again) one right
// after the other, 10,000 times at start-up. Compiled filters are
// immutable, so handing the same one out twice is safe.
var lastPattern patternCache

type patternCache struct {
	mu  sync.Mutex
	raw string
	f   Filter
}

func (c *patternCache) get(raw []byte) Filter {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.f != nil && c.raw == string(raw) {
		return c.f
	}
	return nil
}

func (c *patternCache) put(raw []byte, f Filter) {
	c.mu.Lock()
	c.raw, c.f = string(raw), f
	c.mu.Unlock()
}

// normalizeYAML turns the map types YAML decoders produce
// (map[any]any, map[string]any with nested such maps) into JSON-compatible
// values, so that specs from files and from the API compile alike.
func normalizeYAML(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalizeYAML(e)
		}
		return out
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[fmt.Sprint(k)] = normalizeYAML(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalizeYAML(e)
		}
		return out
	default:
		return v
	}
}
