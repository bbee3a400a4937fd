package transform

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"

	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
)

// InputTransformer is Amazon EventBridge's input transformer, so that
// rules ported from EventBridge work unchanged: InputPaths names values of
// the event's JSON form by JSON path, and InputTemplate places them with
// <name> placeholders.
//
// As in EventBridge: a placeholder outside double quotes is replaced by the
// value as JSON; inside quotes by its text, not escaped. A path that does
// not exist gives null outside quotes and nothing inside them. A template
// that is not JSON-shaped (not starting with {, [ or ") is plain text. Predefined
// names: aws.events.rule-name, aws.events.rule-arn, aws.events.event (the
// event's JSON form), aws.events.event.json (the same as a string) and
// aws.events.event.ingestion-time. If the result is JSON it becomes the
// data as application/json, otherwise text/plain.
type InputTransformer struct {
	InputPaths    map[string]string `json:"input_paths,omitempty"`
	InputTemplate string            `json:"input_template"`
}

const maxInputPaths = 100

var (
	placeholderRE = regexp.MustCompile(`<([A-Za-z0-9_.\-]+)>`)
	pathSegRE     = regexp.MustCompile(`^[^.\[\]]+$`)
)

// predefined variables of EventBridge input transformers.
var predefined = map[string]bool{
	"aws.events.rule-arn": true, "aws.events.rule-name": true, "aws.events.event": true,
	"aws.events.event.json": true, "aws.events.event.ingestion-time": true,
}

type pathStep struct {
	key   string
	index int // -1: key step; -2: wildcard
}

type compiledIT struct {
	paths map[string][]pathStep
	tmpl  string
	// quoted[i] tells whether the i-th placeholder occurrence is inside a
	// JSON string in the template.
	spans []placeholder
}

type placeholder struct {
	start, end int
	name       string
	quoted     bool
}

func compileInput(it *InputTransformer) (*compiledIT, error) {
	if strings.TrimSpace(it.InputTemplate) == "" {
		return nil, fmt.Errorf("input_template: required")
	}
	if len(it.InputTemplate) > 8192 {
		return nil, fmt.Errorf("input_template: at most 8192 characters")
	}
	if len(it.InputPaths) > maxInputPaths {
		return nil, fmt.Errorf("input_paths: at most %d entries", maxInputPaths)
	}
	c := &compiledIT{paths: map[string][]pathStep{}, tmpl: it.InputTemplate}
	names := make([]string, 0, len(it.InputPaths))
	for name := range it.InputPaths {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if predefined[name] || strings.HasPrefix(name, "aws.") {
			return nil, fmt.Errorf("input_paths.%s: names starting with \"aws.\" are reserved", name)
		}
		steps, err := parseJSONPath(it.InputPaths[name])
		if err != nil {
			return nil, fmt.Errorf("input_paths.%s: %w", name, err)
		}
		c.paths[name] = steps
	}
	// A template that is not JSON-shaped is plain text: every value goes in
	// as text, as if it were inside quotes.
	trimmed := strings.TrimSpace(c.tmpl)
	text := !strings.HasPrefix(trimmed, "{") && !strings.HasPrefix(trimmed, "[") && !strings.HasPrefix(trimmed, `"`)
	inQuote := false
	last := 0
	for _, m := range placeholderRE.FindAllStringSubmatchIndex(c.tmpl, -1) {
		inQuote = quoteState(c.tmpl[last:m[0]], inQuote)
		last = m[0]
		name := c.tmpl[m[2]:m[3]]
		if _, ok := c.paths[name]; !ok && !predefined[name] {
			return nil, fmt.Errorf("input_template: <%s> is neither in input_paths nor predefined", name)
		}
		c.spans = append(c.spans, placeholder{start: m[0], end: m[1], name: name, quoted: inQuote || text})
	}
	return c, nil
}

// quoteState scans s (template text between placeholders) and returns
// whether the end of s is inside a JSON string.
func quoteState(s string, in bool) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if in {
				i++
			}
		case '"':
			in = !in
		}
	}
	return in
}

// parseJSONPath accepts $, $.a.b, $.a[0].b, $.a.* (dot notation, as
// EventBridge requires).
func parseJSONPath(p string) ([]pathStep, error) {
	if p == "$" {
		return nil, nil
	}
	if !strings.HasPrefix(p, "$.") {
		return nil, fmt.Errorf("JSON path %q must start with \"$.\"", p)
	}
	var steps []pathStep
	for _, seg := range strings.Split(p[2:], ".") {
		key, rest, _ := strings.Cut(seg, "[")
		if key == "*" {
			steps = append(steps, pathStep{index: -2})
		} else if key != "" {
			if !pathSegRE.MatchString(key) {
				return nil, fmt.Errorf("JSON path %q: bad segment %q", p, seg)
			}
			steps = append(steps, pathStep{key: key, index: -1})
		} else if rest == "" {
			return nil, fmt.Errorf("JSON path %q: empty segment", p)
		}
		for rest != "" {
			idx, after, ok := strings.Cut(rest, "]")
			if !ok {
				return nil, fmt.Errorf("JSON path %q: unclosed [", p)
			}
			if idx == "*" {
				steps = append(steps, pathStep{index: -2})
			} else {
				n, err := strconv.Atoi(idx)
				if err != nil || n < 0 {
					return nil, fmt.Errorf("JSON path %q: bad index [%s]", p, idx)
				}
				steps = append(steps, pathStep{index: n})
			}
			rest = strings.TrimPrefix(after, "[")
			if after != "" && !strings.HasPrefix(after, "[") {
				return nil, fmt.Errorf("JSON path %q: unexpected %q", p, after)
			}
		}
	}
	return steps, nil
}

func resolve(v any, steps []pathStep) (any, bool) {
	for i, s := range steps {
		switch {
		case s.index == -2:
			var out []any
			switch x := v.(type) {
			case []any:
				for _, e := range x {
					if r, ok := resolve(e, steps[i+1:]); ok {
						out = append(out, r)
					}
				}
			case map[string]any:
				keys := make([]string, 0, len(x))
				for k := range x {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				for _, k := range keys {
					if r, ok := resolve(x[k], steps[i+1:]); ok {
						out = append(out, r)
					}
				}
			default:
				return nil, false
			}
			return out, true
		case s.index >= 0:
			a, ok := v.([]any)
			if !ok || s.index >= len(a) {
				return nil, false
			}
			v = a[s.index]
		default:
			m, ok := v.(map[string]any)
			if !ok {
				return nil, false
			}
			if v, ok = m[s.key]; !ok {
				return nil, false
			}
		}
	}
	return v, true
}

type ctxKey int

const (
	ruleKey ctxKey = iota
	ingestedKey
)

// WithRule tells transforms which rule they run for.
func WithRule(ctx context.Context, rule string) context.Context {
	return context.WithValue(ctx, ruleKey, rule)
}

// WithIngested tells transforms when the event was ingested.
func WithIngested(ctx context.Context, t time.Time) context.Context {
	return context.WithValue(ctx, ingestedKey, t)
}

func (c *compiledIT) Apply(ctx context.Context, e *ce.Event) (*ce.Event, error) {
	form := ebevent.Form(e)
	rule, _ := ctx.Value(ruleKey).(string)
	var b strings.Builder
	last := 0
	for _, ph := range c.spans {
		b.WriteString(c.tmpl[last:ph.start])
		last = ph.end
		v, ok := c.value(ph.name, form, rule, ctx)
		switch {
		case !ok && ph.quoted:
		case !ok:
			b.WriteString("null")
		case ph.quoted:
			if s, isStr := v.(string); isStr {
				b.WriteString(s)
			} else {
				j, _ := json.Marshal(v)
				b.Write(j)
			}
		default:
			j, err := json.Marshal(v)
			if err != nil {
				return nil, fmt.Errorf("input transformer: <%s>: %v", ph.name, err)
			}
			b.Write(j)
		}
	}
	b.WriteString(c.tmpl[last:])
	out := []byte(b.String())
	ne := e.Clone()
	ct := "application/json"
	if !json.Valid(out) {
		ct = "text/plain; charset=utf-8"
	} else {
		var compact strings.Builder
		_ = json.NewEncoder(&compact).Encode(json.RawMessage(out))
		out = []byte(strings.TrimSpace(compact.String()))
	}
	ebevent.SetData(&ne, ct, out)
	return &ne, nil
}

func (c *compiledIT) value(name string, form map[string]any, rule string, ctx context.Context) (any, bool) {
	switch name {
	case "aws.events.rule-name":
		return rule, true
	case "aws.events.rule-arn":
		return "arn:eventbridge:rule/" + rule, true
	case "aws.events.event":
		return form, true
	case "aws.events.event.json":
		j, _ := json.Marshal(form)
		return string(j), true
	case "aws.events.event.ingestion-time":
		t, ok := ctx.Value(ingestedKey).(time.Time)
		if !ok || t.IsZero() {
			t = time.Now()
		}
		return t.UTC().Format(time.RFC3339), true
	}
	return resolve(form, c.paths[name])
}
