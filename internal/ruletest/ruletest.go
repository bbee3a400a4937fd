// Package ruletest runs rules against events without traffic: the engine
// behind `eventbridge test`, `eventbridge pattern test` and
// POST /v1/rules:test. A rule is compiled exactly as the router compiles
// it, so a passing test means the running bridge does the same.
package ruletest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"

	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
	"github.com/eventbridge-dev/eventbridge/internal/filter"
	"github.com/eventbridge-dev/eventbridge/internal/resource"
	"github.com/eventbridge-dev/eventbridge/internal/transform"
)

// Result is what a rule does with one event.
type Result struct {
	// Matched tells whether the rule's filter matched.
	Matched bool `json:"matched"`
	// Output is the event after the transform (its JSON form), when it
	// matched; the event itself when the rule has no transform.
	Output map[string]any `json:"output,omitempty"`
	// Error is the transform's error, when it failed (the delivery would go
	// to the DLQ), or why the event is not valid.
	Error string `json:"error,omitempty"`
}

// Compiled is a rule ready to test events.
type Compiled struct {
	name      string
	filter    filter.Filter
	transform transform.Transform
}

// Compile compiles a rule spec (filter and transform); its error names the
// path of each problem.
func Compile(name string, r *resource.Rule) (*Compiled, error) {
	f, err := filter.Compile(r.Filter)
	if err != nil {
		return nil, fmt.Errorf("filter: %w", err)
	}
	tr, err := transform.Compile(r.Transform)
	if err != nil {
		return nil, fmt.Errorf("transform: %w", err)
	}
	return &Compiled{name: name, filter: f, transform: tr}, nil
}

// Run tests one event, given in the JSON format.
func (c *Compiled) Run(ctx context.Context, eventJSON []byte) Result {
	e, err := ebevent.DecodeJSON(eventJSON)
	if err != nil {
		return Result{Error: "invalid event: " + err.Error()}
	}
	return c.RunEvent(ctx, e)
}

// RunEvent tests one event.
func (c *Compiled) RunEvent(ctx context.Context, e *ce.Event) Result {
	if !c.filter.Match(filter.NewInput(e)) {
		return Result{}
	}
	out := e
	if c.transform != nil {
		tctx := transform.WithIngested(transform.WithRule(ctx, c.name), time.Now())
		var err error
		if out, err = c.transform.Apply(tctx, e); err != nil {
			return Result{Matched: true, Error: err.Error()}
		}
	}
	return Result{Matched: true, Output: ebevent.Form(out)}
}

// ErrNoRule is returned when a test names a rule the config lacks.
var ErrNoRule = errors.New("no such rule")

// EventJSON turns a YAML/JSON-decoded event value into JSON bytes.
func EventJSON(v any) ([]byte, error) {
	b, err := json.Marshal(normalize(v))
	if err != nil {
		return nil, fmt.Errorf("event is not JSON: %w", err)
	}
	return b, nil
}

func normalize(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalize(e)
		}
		return out
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[fmt.Sprint(k)] = normalize(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e)
		}
		return out
	}
	return v
}
