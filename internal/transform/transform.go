// Package transform rewrites events before delivery: jq programs (gojq)
// over the event's JSON form.
package transform

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/itchyny/gojq"

	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

// Spec is a rule's transform as written in config.
type Spec struct {
	// JQ is a jq program over the event's JSON form. If its output is an
	// object with "specversion", it replaces the event; otherwise it becomes
	// the data (as application/json).
	JQ string `json:"jq,omitempty"`
	// Timeout bounds one run. Default 100ms.
	Timeout spec.Duration `json:"timeout,omitempty"`
	// MaxOutput bounds the output size. Default 1MiB.
	MaxOutput spec.ByteSize `json:"max_output,omitempty"`
	// InputTransformer is the EventBridge input transformer; it is an
	// alternative to JQ.
	InputTransformer *InputTransformer `json:"input_transformer,omitempty"`
}

// IsZero reports whether no transform is set.
func (s Spec) IsZero() bool { return s.JQ == "" && s.InputTransformer == nil }

// Transform rewrites one event. Safe for concurrent use. Errors are the
// event's fault (a jq runtime error, an output too large or not a valid
// event): the delivery fails permanently.
type Transform interface {
	Apply(ctx context.Context, e *ce.Event) (*ce.Event, error)
}

// ErrOutput is wrapped by errors about a transform's output.
var ErrOutput = errors.New("transform output")

// Compile compiles a spec; it returns nil, nil when the spec is empty.
// Errors name the position in the program.
func Compile(s Spec) (Transform, error) {
	if s.IsZero() {
		return nil, nil
	}
	if s.InputTransformer != nil {
		if s.JQ != "" {
			return nil, fmt.Errorf("set jq or input_transformer, not both")
		}
		return compileInput(s.InputTransformer)
	}
	q, err := gojq.Parse(s.JQ)
	if err != nil {
		var pe *gojq.ParseError
		if errors.As(err, &pe) {
			line, col := position(s.JQ, pe.Offset)
			return nil, fmt.Errorf("jq: line %d, column %d: %w", line, col, err)
		}
		return nil, fmt.Errorf("jq: %w", err)
	}
	code, err := gojq.Compile(q,
		gojq.WithEnvironLoader(func() []string { return nil }),
	)
	if err != nil {
		return nil, fmt.Errorf("jq: %w", err)
	}
	t := &jq{code: code, timeout: s.Timeout.D(), maxOut: int(s.MaxOutput)}
	if t.timeout == 0 {
		t.timeout = 100 * time.Millisecond
	}
	if t.maxOut == 0 {
		t.maxOut = 1 << 20
	}
	return t, nil
}

type jq struct {
	code    *gojq.Code
	timeout time.Duration
	maxOut  int
}

func (t *jq) Apply(ctx context.Context, e *ce.Event) (*ce.Event, error) {
	ctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	iter := t.code.RunWithContext(ctx, ebevent.Form(e))
	v, ok := iter.Next()
	if !ok {
		return nil, fmt.Errorf("jq: the program produced no output")
	}
	if err, isErr := v.(error); isErr {
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("jq: took longer than %s", t.timeout)
		}
		return nil, fmt.Errorf("jq: %w", err)
	}
	out, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("%w: not JSON: %v", ErrOutput, err)
	}
	if len(out) > t.maxOut {
		return nil, fmt.Errorf("%w: %d bytes is over the limit of %d", ErrOutput, len(out), t.maxOut)
	}
	if m, ok := v.(map[string]any); ok {
		if _, whole := m["specversion"]; whole {
			ne := ce.New()
			if err := ne.UnmarshalJSON(out); err != nil {
				return nil, fmt.Errorf("%w: not a valid CloudEvent: %v", ErrOutput, err)
			}
			if err := ebevent.Validate(&ne); err != nil {
				return nil, fmt.Errorf("%w: %v", ErrOutput, err)
			}
			return &ne, nil
		}
	}
	ne := e.Clone()
	ebevent.SetData(&ne, ce.ApplicationJSON, out)
	return &ne, nil
}

// position turns a byte offset into a 1-based line and column.
func position(src string, off int) (line, col int) {
	line, col = 1, 1
	for i := 0; i < off && i < len(src); i++ {
		if src[i] == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}
