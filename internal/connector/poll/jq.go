package poll

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"time"

	"github.com/itchyny/gojq"
)

// programs are a source's compiled jq expressions; nil ones are unset.
type programs struct {
	items, id, subject, time, next *gojq.Code
}

// programError names the config field of a jq error.
type programError struct {
	field string
	err   error
}

func (e *programError) Error() string { return e.field + ": " + e.err.Error() }

func compilePrograms(c *Config) (*programs, error) {
	var ps programs
	for _, p := range []struct {
		field, src string
		dst        **gojq.Code
		vars       []string
	}{
		{"items", c.Items, &ps.items, nil},
		{"id", c.ID, &ps.id, nil},
		{"subject", c.Subject, &ps.subject, nil},
		{"time", c.Time, &ps.time, nil},
		{"pagination.next", c.Pagination.Next, &ps.next, []string{"$headers", "$url"}},
	} {
		if p.src == "" {
			continue
		}
		q, err := gojq.Parse(p.src)
		if err != nil {
			return nil, &programError{p.field, fmt.Errorf("jq: %w", err)}
		}
		code, err := gojq.Compile(q, gojq.WithVariables(p.vars), gojq.WithEnvironLoader(func() []string { return nil }))
		if err != nil {
			return nil, &programError{p.field, fmt.Errorf("jq: %w", err)}
		}
		*p.dst = code
	}
	return &ps, nil
}

// all runs code on v and returns its outputs.
func all(ctx context.Context, code *gojq.Code, v any, vars ...any) ([]any, error) {
	var out []any
	it := code.RunWithContext(ctx, v, vars...)
	for {
		x, ok := it.Next()
		if !ok {
			return out, nil
		}
		if err, ok := x.(error); ok {
			var halt *gojq.HaltError
			if errors.As(err, &halt) && halt.Value() == nil {
				return out, nil
			}
			return nil, err
		}
		out = append(out, x)
	}
}

// first runs code on v and returns its first output (nil if none).
func first(ctx context.Context, code *gojq.Code, v any, vars ...any) (any, error) {
	it := code.RunWithContext(ctx, v, vars...)
	x, ok := it.Next()
	if !ok {
		return nil, nil
	}
	if err, ok := x.(error); ok {
		var halt *gojq.HaltError
		if errors.As(err, &halt) && halt.Value() == nil {
			return nil, nil
		}
		return nil, err
	}
	return x, nil
}

// scalar turns a jq value into text: strings as they are, numbers in full
// (no exponent for integers), anything else as JSON. null is "".
func scalar(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return x.String()
	case int:
		return strconv.Itoa(x)
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			return strconv.FormatInt(int64(x), 10)
		}
		return strconv.FormatFloat(x, 'f', -1, 64)
	case *big.Int:
		return x.String()
	}
	b, err := gojq.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// hashID is the default identity of an item: a hash of its JSON.
func hashID(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:16])
}

// eventTime reads a jq value as a time: RFC 3339 text, or Unix seconds.
func eventTime(v any) (time.Time, error) {
	switch x := v.(type) {
	case string:
		t, err := time.Parse(time.RFC3339Nano, x)
		if err != nil {
			return time.Time{}, fmt.Errorf("time %q is not RFC 3339", x)
		}
		return t, nil
	case json.Number, int, float64, *big.Int:
		f, err := strconv.ParseFloat(scalar(x), 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("time %v is not a number of seconds", x)
		}
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("time must be RFC 3339 text or Unix seconds, not %s", scalar(v))
}
