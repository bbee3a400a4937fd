package webhook

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// ParseObject reads body as one JSON object, numbers kept as written
// (json.Number), so that ids such as 9007199254740993 survive.
func ParseObject(body []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, Invalidf("the body is not a JSON object: %v", err)
	}
	if m == nil {
		return nil, Invalidf("the body is not a JSON object: null")
	}
	if dec.More() {
		return nil, Invalidf("the body holds more than one JSON value")
	}
	return m, nil
}

// Lookup returns the value at a dotted path ("pull_request.updated_at").
func Lookup(m map[string]any, path string) (any, bool) {
	var v any = m
	for _, seg := range strings.Split(path, ".") {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = obj[seg]; !ok {
			return nil, false
		}
	}
	return v, v != nil
}

// String returns the value at path as text: a string as it is, a number
// as written, a boolean as true/false; "" for anything else or nothing.
func String(m map[string]any, path string) string {
	v, _ := Lookup(m, path)
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	return ""
}

// Time returns the value at path as a time: an RFC 3339 string, or a
// number of Unix seconds. ok is false when it is neither, or falls outside
// the years 0001 to 9999 (which CloudEvents times cannot carry).
func Time(m map[string]any, path string) (time.Time, bool) {
	v, _ := Lookup(m, path)
	var t time.Time
	switch x := v.(type) {
	case string:
		var err error
		if t, err = time.Parse(time.RFC3339Nano, x); err != nil {
			return time.Time{}, false
		}
	case json.Number:
		n, err := x.Int64()
		if err != nil || n <= 0 || n > 253402300799 {
			return time.Time{}, false
		}
		t = time.Unix(n, 0)
	default:
		return time.Time{}, false
	}
	if y := t.UTC().Year(); y < 1 || y > 9999 {
		return time.Time{}, false
	}
	return t, true
}
