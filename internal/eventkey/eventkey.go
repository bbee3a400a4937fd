// Package eventkey computes a key from an event: the value of one of its
// attributes, or the output of a jq expression over its JSON form. Rules
// use it to tell which events are the same for their dedup.
package eventkey

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/itchyny/gojq"

	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
)

// MaxExprLen bounds the text of an expression.
const MaxExprLen = 1024

// timeout bounds one run of a jq expression.
const timeout = 50 * time.Millisecond

// attrRE is a CloudEvents attribute name: lower-case letters and digits.
var attrRE = regexp.MustCompile(`^[a-z0-9]{1,20}$`)

// Key computes a key from an event. Safe for concurrent use.
type Key struct {
	expr string
	attr string     // an attribute name, or ""
	code *gojq.Code // a jq expression otherwise
}

// Compile reads expr: a CloudEvents attribute or extension name (`id`,
// `subject`, `githubdelivery`), or else a jq expression over the event's
// JSON form (`.data.order_id`, `[.source, .data]`). Errors name the
// position in the expression.
func Compile(expr string) (*Key, error) {
	switch {
	case expr == "":
		return nil, errors.New("required: an attribute name or a jq expression")
	case len(expr) > MaxExprLen:
		return nil, fmt.Errorf("at most %d characters", MaxExprLen)
	case attrRE.MatchString(expr):
		return &Key{expr: expr, attr: expr}, nil
	}
	q, err := gojq.Parse(expr)
	if err != nil {
		var pe *gojq.ParseError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("not an attribute name, and not jq: column %d: %v", pe.Offset+1, err)
		}
		return nil, fmt.Errorf("not an attribute name, and not jq: %v", err)
	}
	code, err := gojq.Compile(q, gojq.WithEnvironLoader(func() []string { return nil }))
	if err != nil {
		return nil, fmt.Errorf("jq: %v", err)
	}
	return &Key{expr: expr, code: code}, nil
}

// String is the expression as written.
func (k *Key) String() string { return k.expr }

// Of returns the event's key. ok is false when the event has none: the
// attribute is absent, or the expression gives null, false, an empty
// string or nothing. A string is its own key; any other value is its
// JSON text. err is a jq runtime error or a timeout.
func (k *Key) Of(e *ce.Event) (key string, ok bool, err error) {
	if k.attr != "" {
		v, ok := ebevent.Attr(e, k.attr)
		return v, ok && v != "", nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	v, more := k.code.RunWithContext(ctx, ebevent.Form(e)).Next()
	if !more {
		return "", false, nil
	}
	if err, isErr := v.(error); isErr {
		if errors.Is(err, context.DeadlineExceeded) {
			return "", false, fmt.Errorf("jq: took longer than %s", timeout)
		}
		return "", false, fmt.Errorf("jq: %w", err)
	}
	return keyText(v)
}

func keyText(v any) (string, bool, error) {
	switch v := v.(type) {
	case nil:
		return "", false, nil
	case bool:
		if !v {
			return "", false, nil
		}
	case string:
		return v, v != "", nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", false, fmt.Errorf("key is not JSON: %v", err)
	}
	return string(b), true, nil
}
