package filter

import (
	"fmt"
	"sort"
	"strings"
)

// compileDialect compiles one CloudEvents Subscriptions API filter
// expression ({"exact": {...}}, {"all": [...]}, ...). Problems are appended
// to errs; the returned filter is only meaningful when errs stays empty.
func compileDialect(v any, path string, errs *Errors) Filter {
	m, ok := v.(map[string]any)
	if !ok {
		*errs = append(*errs, errorf(path, "a filter must be an object with one dialect key (exact, prefix, suffix, all, any, not, sql), got %s", jsonType(v)))
		return matchAll
	}
	if len(m) != 1 {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		*errs = append(*errs, errorf(path, "a filter must have exactly one dialect key, got %d (%s)", len(m), strings.Join(keys, ", ")))
		return matchAll
	}
	for dialect, arg := range m {
		p := path + "." + dialect
		switch dialect {
		case "exact", "prefix", "suffix":
			return compileAttrDialect(dialect, arg, p, errs)
		case "all", "any":
			list, ok := arg.([]any)
			if !ok || len(list) == 0 {
				*errs = append(*errs, errorf(p, "must be a non-empty array of filters"))
				return matchAll
			}
			fs := make([]Filter, len(list))
			for i, e := range list {
				fs[i] = compileDialect(e, fmt.Sprintf("%s[%d]", p, i), errs)
			}
			if dialect == "all" {
				return allOf(fs)
			}
			return anyOf(fs)
		case "not":
			inner := compileDialect(arg, p, errs)
			return FilterFunc(func(in *Input) bool { return !inner.Match(in) })
		case "sql":
			s, ok := arg.(string)
			if !ok || s == "" {
				*errs = append(*errs, errorf(p, "must be a non-empty CESQL expression string"))
				return matchAll
			}
			f, err := compileSQL(s, p)
			if err != nil {
				*errs = append(*errs, err)
				return matchAll
			}
			return f
		default:
			*errs = append(*errs, errorf(p, "unsupported filter dialect %q (supported: exact, prefix, suffix, all, any, not, sql)", dialect))
			return matchAll
		}
	}
	return matchAll
}

type attrCond struct {
	name, value string
}

func compileAttrDialect(dialect string, arg any, path string, errs *Errors) Filter {
	m, ok := arg.(map[string]any)
	if !ok || len(m) == 0 {
		*errs = append(*errs, errorf(path, "must be a non-empty object of attribute name to string value"))
		return matchAll
	}
	conds := make([]attrCond, 0, len(m))
	for name, v := range m {
		s, ok := v.(string)
		switch {
		case name == "":
			*errs = append(*errs, errorf(path, "attribute names must not be empty"))
		case !ok:
			*errs = append(*errs, errorf(path+"."+name, "must be a string, got %s", jsonType(v)))
		case s == "":
			*errs = append(*errs, errorf(path+"."+name, "must not be an empty string"))
		default:
			conds = append(conds, attrCond{name: name, value: s})
		}
	}
	sort.Slice(conds, func(i, j int) bool { return conds[i].name < conds[j].name })
	var test func(have, want string) bool
	switch dialect {
	case "exact":
		test = func(have, want string) bool { return have == want }
	case "prefix":
		test = strings.HasPrefix
	default:
		test = strings.HasSuffix
	}
	return FilterFunc(func(in *Input) bool {
		for _, c := range conds {
			have, ok := in.Attr(c.name)
			if !ok || !test(have, c.value) {
				return false
			}
		}
		return true
	})
}

func allOf(fs []Filter) Filter {
	if len(fs) == 1 {
		return fs[0]
	}
	return FilterFunc(func(in *Input) bool {
		for _, f := range fs {
			if !f.Match(in) {
				return false
			}
		}
		return true
	})
}

func anyOf(fs []Filter) Filter {
	return FilterFunc(func(in *Input) bool {
		for _, f := range fs {
			if f.Match(in) {
				return true
			}
		}
		return false
	})
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	default:
		return "a number"
	}
}
