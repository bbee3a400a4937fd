package generic

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/itchyny/gojq"

	"github.com/eventbridge-dev/eventbridge/internal/connector/webhook"
)

// jqTimeout bounds each expression on each request.
const jqTimeout = 100 * time.Millisecond

// compile parses and compiles a jq expression without access to the
// environment (no $ENV, no env): configs must not read the bridge's
// secrets that way.
func compile(src string) (*gojq.Code, error) {
	q, err := gojq.Parse(src)
	if err != nil {
		return nil, fmt.Errorf("jq: %w", err)
	}
	code, err := gojq.Compile(q, gojq.WithEnvironLoader(func() []string { return nil }))
	if err != nil {
		return nil, fmt.Errorf("jq: %w", err)
	}
	return code, nil
}

type mapping struct {
	typ, source, id, subject, time *gojq.Code
}

func compileMapping(m *Mapping) (*mapping, error) {
	var out mapping
	for _, f := range []struct {
		dst  **gojq.Code
		src  string
		name string
	}{{&out.typ, m.Type, "type"}, {&out.source, m.Source, "source"}, {&out.id, m.ID, "id"}, {&out.subject, m.Subject, "subject"}, {&out.time, m.Time, "time"}} {
		if f.src == "" {
			continue
		}
		c, err := compile(f.src)
		if err != nil {
			return nil, fmt.Errorf("event.%s: %w", f.name, err)
		}
		*f.dst = c
	}
	return &out, nil
}

// Input is what the expressions see: lower-case header names (the first
// value of each), and the body parsed as JSON (numbers kept exact) or,
// when it is not JSON, as a string.
func Input(hd http.Header, body []byte) map[string]any {
	headers := make(map[string]any, len(hd))
	for k, vs := range hd {
		if len(vs) > 0 {
			headers[strings.ToLower(k)] = vs[0]
		}
	}
	var b any = string(body)
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err == nil && !dec.More() {
		b = v
	}
	return map[string]any{"headers": headers, "body": b}
}

// eval runs code over in and returns its first output as text ("" for
// null or no output).
func eval(ctx context.Context, name string, code *gojq.Code, in map[string]any) (string, error) {
	if code == nil {
		return "", nil
	}
	ctx, cancel := context.WithTimeout(ctx, jqTimeout)
	defer cancel()
	v, ok := code.RunWithContext(ctx, in).Next()
	if !ok {
		return "", nil
	}
	switch x := v.(type) {
	case nil:
		return "", nil
	case error:
		if errors.Is(x, context.DeadlineExceeded) {
			return "", webhook.Invalidf("event.%s: jq took longer than %s", name, jqTimeout)
		}
		return "", webhook.Invalidf("event.%s: jq: %v", name, x)
	case string:
		return x, nil
	case int:
		return strconv.Itoa(x), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case *big.Int:
		return x.String(), nil
	case json.Number:
		return x.String(), nil
	}
	return "", webhook.Invalidf("event.%s: jq gave a %T, not a string", name, v)
}
