package deploy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
)

// obj is one decoded YAML mapping (a Kubernetes object, a values file, ...).
type obj = map[string]any

// decodeDocs decodes every non-empty YAML document in data.
func decodeDocs(data []byte) ([]obj, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []obj
	for {
		var o obj
		err := dec.Decode(&o)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if len(o) > 0 {
			out = append(out, o)
		}
	}
}

// readDocs reads and decodes a YAML file, failing the test on error.
func readDocs(t *testing.T, path string) []obj {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	docs, err := decodeDocs(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return docs
}

// get walks maps by key and lists by decimal index; nil when absent.
func get(v any, path ...string) any {
	for _, k := range path {
		switch x := v.(type) {
		case map[string]any:
			v = x[k]
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

func getMap(v any, path ...string) obj {
	m, _ := get(v, path...).(map[string]any)
	return m
}

func getList(v any, path ...string) []any {
	l, _ := get(v, path...).([]any)
	return l
}

func getString(v any, path ...string) string {
	switch x := get(v, path...).(type) {
	case string:
		return x
	case nil:
		return ""
	default:
		return fmt.Sprint(x)
	}
}

// getInt reads a number whichever type the decoder chose; ok is false when
// absent or not a whole number.
func getInt(v any, path ...string) (int64, bool) {
	switch x := get(v, path...).(type) {
	case int:
		return int64(x), true
	case int64:
		return x, true
	case uint64:
		return int64(x), true
	case float64:
		return int64(x), x == float64(int64(x))
	case string:
		n, err := strconv.ParseInt(x, 10, 64)
		return n, err == nil
	}
	return 0, false
}

func getStrings(v any, path ...string) []string {
	var out []string
	for _, e := range getList(v, path...) {
		out = append(out, fmt.Sprint(e))
	}
	return out
}

// kindName is how problems name an object: "StatefulSet/eventbridge".
func kindName(o obj) string {
	return getString(o, "kind") + "/" + getString(o, "metadata", "name")
}

// find returns the objects of a kind, optionally of a name.
func find(objs []obj, kind, name string) []obj {
	var out []obj
	for _, o := range objs {
		if getString(o, "kind") == kind && (name == "" || getString(o, "metadata", "name") == name) {
			out = append(out, o)
		}
	}
	return out
}

// labelsMatch reports whether every key=value of selector is in labels.
func labelsMatch(selector, labels obj) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if fmt.Sprint(labels[k]) != fmt.Sprint(v) {
			return false
		}
	}
	return true
}

// selects applies a label selector with matchLabels and matchExpressions
// (In, NotIn, Exists, DoesNotExist) to labels.
func selects(sel obj, labels obj) bool {
	if !labelsMatch(getMap(sel, "matchLabels"), labels) {
		return false
	}
	for _, e := range getList(sel, "matchExpressions") {
		key := getString(e, "key")
		val, has := labels[key]
		in := false
		for _, v := range getStrings(e, "values") {
			if has && fmt.Sprint(val) == v {
				in = true
			}
		}
		switch getString(e, "operator") {
		case "In":
			if !in {
				return false
			}
		case "NotIn":
			if in {
				return false
			}
		case "Exists":
			if !has {
				return false
			}
		case "DoesNotExist":
			if has {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// problems collects what a check found, each with its context.
type problems []string

func (p *problems) add(format string, args ...any) { *p = append(*p, fmt.Sprintf(format, args...)) }

// report fails t once per problem.
func (p problems) report(t *testing.T, where string) {
	t.Helper()
	for _, s := range p {
		t.Errorf("%s: %s", where, s)
	}
}

func (p problems) String() string { return strings.Join(p, "\n") }
