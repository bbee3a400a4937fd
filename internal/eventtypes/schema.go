package eventtypes

import (
	"math"
	"sort"
	"time"
)

// Infer returns a JSON Schema (draft 2020-12 vocabulary) describing v.
func Infer(v any) map[string]any {
	switch x := v.(type) {
	case nil:
		return map[string]any{"type": "null"}
	case bool:
		return map[string]any{"type": "boolean"}
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return map[string]any{"type": "integer"}
		}
		return map[string]any{"type": "number"}
	case string:
		s := map[string]any{"type": "string"}
		if _, err := time.Parse(time.RFC3339, x); err == nil {
			s["format"] = "date-time"
		}
		return s
	case []any:
		s := map[string]any{"type": "array"}
		var items map[string]any
		for _, e := range x {
			if items == nil {
				items = Infer(e)
			} else {
				items = Merge(items, Infer(e))
			}
		}
		if items != nil {
			s["items"] = items
		}
		return s
	case map[string]any:
		props := map[string]any{}
		req := make([]any, 0, len(x))
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			props[k] = Infer(x[k])
			req = append(req, k)
		}
		return map[string]any{"type": "object", "properties": props, "required": req}
	}
	return map[string]any{}
}

// Merge returns a schema that admits what a or b admits: types are joined,
// object properties merged (required only when required in both), array
// items merged.
func Merge(a, b map[string]any) map[string]any {
	ta, tb := types(a), types(b)
	all := map[string]bool{}
	for _, t := range ta {
		all[t] = true
	}
	for _, t := range tb {
		all[t] = true
	}
	if all["integer"] && all["number"] {
		delete(all, "integer")
	}
	out := map[string]any{}
	names := make([]string, 0, len(all))
	for t := range all {
		names = append(names, t)
	}
	sort.Strings(names)
	if len(names) == 1 {
		out["type"] = names[0]
	} else {
		list := make([]any, len(names))
		for i, n := range names {
			list[i] = n
		}
		out["type"] = list
	}
	if fa, fb := a["format"], b["format"]; fa != nil && fa == fb {
		out["format"] = fa
	}
	if all["object"] {
		pa, _ := a["properties"].(map[string]any)
		pb, _ := b["properties"].(map[string]any)
		props := map[string]any{}
		for k, v := range pa {
			props[k] = v
		}
		for k, v := range pb {
			if old, ok := props[k].(map[string]any); ok {
				props[k] = Merge(old, v.(map[string]any))
			} else {
				props[k] = v
			}
		}
		out["properties"] = props
		ra, rb := set(a["required"]), set(b["required"])
		var req []any
		for k := range ra {
			if rb[k] || !isObject(b) {
				req = append(req, k)
			}
		}
		if !isObject(a) {
			req = req[:0]
			for k := range rb {
				req = append(req, k)
			}
		}
		sort.Slice(req, func(i, j int) bool { return req[i].(string) < req[j].(string) })
		out["required"] = req
	}
	if all["array"] {
		ia, _ := a["items"].(map[string]any)
		ib, _ := b["items"].(map[string]any)
		switch {
		case ia != nil && ib != nil:
			out["items"] = Merge(ia, ib)
		case ia != nil:
			out["items"] = ia
		case ib != nil:
			out["items"] = ib
		}
	}
	return out
}

func isObject(s map[string]any) bool {
	for _, t := range types(s) {
		if t == "object" {
			return true
		}
	}
	return false
}

func types(s map[string]any) []string {
	switch t := s["type"].(type) {
	case string:
		return []string{t}
	case []any:
		out := make([]string, 0, len(t))
		for _, e := range t {
			if str, ok := e.(string); ok {
				out = append(out, str)
			}
		}
		return out
	}
	return nil
}

func set(v any) map[string]bool {
	out := map[string]bool{}
	if list, ok := v.([]any); ok {
		for _, e := range list {
			if s, ok := e.(string); ok {
				out[s] = true
			}
		}
	}
	return out
}
