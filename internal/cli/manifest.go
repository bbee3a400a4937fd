package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"reflect"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"github.com/eventbridge-dev/eventbridge/internal/config"
	"github.com/eventbridge-dev/eventbridge/pkg/client"
)

// manifest is what apply -f and delete -f read: a config file's sources,
// targets and rules.
type manifest struct {
	path    string
	file    *ast.File
	entries []entry  // targets, rules, sources (the order apply uses); each kind by name
	skipped []string // sections of the file apply leaves alone
}

// entry is one resource of a manifest.
type entry struct {
	kind client.Kind
	name string
	spec json.RawMessage
	path string // in the file: "targets.chat"
}

func (e entry) String() string { return string(e.kind) + "/" + e.name }

// startOnly are the config file's sections that configure a bridge when it
// starts (bus, api, log...); apply skips them. They are read from the
// config's type, so that a section added there is known here.
var startOnly = func() []string {
	// secrets: are read by the bridge from its own file only (Config keeps
	// them out of JSON, so they are named here).
	out := []string{"secrets"}
	t := reflect.TypeFor[config.Config]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}()

// sections are read in the order apply writes them in, whatever the order
// of the file: targets (a rule may name only targets that exist), then
// rules, then sources, so that the first events of a new source (a poll's
// first run, a stream read from the start) find the rules that want them.
// A rule may name the file's sources before they exist (pending_sources).
var sections = []struct {
	name string
	kind client.Kind
}{{"targets", client.KindTarget}, {"rules", client.KindRule}, {"sources", client.KindSource}}

// readManifest reads a config file ("-": stdin). Its errors are usage
// errors: the file is the user's.
func readManifest(path string, stdin io.Reader) (*manifest, error) {
	var data []byte
	var err error
	if path == "-" {
		data, err = io.ReadAll(stdin)
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, usageError(err)
	}
	m := &manifest{path: path}
	if path == "-" {
		m.path = "<stdin>"
	}
	if m.file, err = parser.ParseBytes(data, 0); err != nil {
		return nil, usageErrorf("%s: %s", m.path, yaml.FormatError(err, false, true))
	}
	var top map[string]any
	if err := yaml.Unmarshal(data, &top); err != nil {
		return nil, usageErrorf("%s: %s", m.path, yaml.FormatError(err, false, true))
	}
	for key := range top {
		switch {
		case slices.Contains(startOnly, key):
			m.skipped = append(m.skipped, key)
		case key == "sources" || key == "targets" || key == "rules":
		default:
			return nil, usageErrorf("%s:%d: unknown section %q: a config file has sources, targets and rules (and %s)", m.path, m.line(key), key, strings.Join(startOnly, ", "))
		}
	}
	slices.Sort(m.skipped)
	for _, s := range sections {
		raw, ok := top[s.name]
		if !ok || raw == nil {
			continue
		}
		byName, ok := jsonable(raw).(map[string]any)
		if !ok {
			return nil, usageErrorf("%s:%d: %s: want a map of names to specs", m.path, m.line(s.name), s.name)
		}
		for _, name := range slices.Sorted(maps.Keys(byName)) {
			path := s.name + "." + name
			if _, ok := byName[name].(map[string]any); !ok {
				return nil, usageErrorf("%s:%d: %s: want a spec (a map), not %s", m.path, m.line(path), path, compactJSON(byName[name]))
			}
			b, err := json.Marshal(byName[name])
			if err != nil {
				return nil, usageErrorf("%s: %s: %v", m.path, path, err)
			}
			m.entries = append(m.entries, entry{kind: s.kind, name: name, spec: b, path: path})
		}
	}
	return m, nil
}

// jsonable turns YAML-decoded maps with non-string keys into JSON objects.
func jsonable(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = jsonable(e)
		}
		return x
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[fmt.Sprint(k)] = jsonable(e)
		}
		return out
	case []any:
		for i, e := range x {
			x[i] = jsonable(e)
		}
		return x
	}
	return v
}

// fieldPath turns a field of an API error about e ("spec.url") into its
// path in the file ("targets.chat.url").
func (e entry) fieldPath(field string) string {
	switch {
	case field == "spec" || field == "" || field == "name":
		return e.path
	case strings.HasPrefix(field, "spec."):
		return e.path + "." + strings.TrimPrefix(field, "spec.")
	case strings.HasPrefix(field, "spec["):
		return e.path + strings.TrimPrefix(field, "spec")
	}
	return e.path + "." + field
}

// line returns the line of a path in the file, or of its nearest parent
// there; 0 when unknown.
func (m *manifest) line(path string) int {
	for ; path != ""; path = parentPath(path) {
		yp, err := yaml.PathString("$." + quotePath(path))
		if err != nil {
			continue
		}
		n, err := yp.FilterFile(m.file)
		if err != nil || n == nil {
			continue
		}
		if tk := n.GetToken(); tk != nil && tk.Position != nil {
			return tk.Position.Line
		}
	}
	return 0
}

// where renders "FILE:LINE" for a path.
func (m *manifest) where(path string) string {
	if l := m.line(path); l > 0 {
		return fmt.Sprintf("%s:%d", m.path, l)
	}
	return m.path
}

// quotePath quotes path segments that YAML path syntax would misread.
func quotePath(path string) string {
	segs := strings.Split(path, ".")
	for i, s := range segs {
		base, idx, _ := strings.Cut(s, "[")
		if base != "" && strings.ContainsAny(base, "-/ :*$@") {
			base = "'" + base + "'"
		}
		if idx != "" {
			base += "[" + idx
		}
		segs[i] = base
	}
	return strings.Join(segs, ".")
}

func parentPath(path string) string {
	if strings.HasSuffix(path, "]") {
		if i := strings.LastIndexByte(path, '['); i > 0 {
			return path[:i]
		}
	}
	if i := strings.LastIndexByte(path, '.'); i > 0 {
		return path[:i]
	}
	return ""
}
