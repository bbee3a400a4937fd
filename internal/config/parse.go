package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/jobs/jobapi"
	"github.com/eventbridge-dev/eventbridge/internal/lifecycle"
	"github.com/eventbridge-dev/eventbridge/internal/resource"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
	"github.com/eventbridge-dev/eventbridge/internal/state"
	"github.com/eventbridge-dev/eventbridge/internal/telemetry"
)

// file is the top level of the file; sources and targets are decoded in a
// second pass, once their type is known.
type file struct {
	Instance        InstanceConfig          `json:"instance,omitempty"`
	Log             LogConfig               `json:"log,omitempty"`
	Bus             bus.Config              `json:"bus,omitempty"`
	API             APIConfig               `json:"api,omitempty"`
	ShutdownTimeout spec.Duration           `json:"shutdown_timeout,omitempty"`
	Lifecycle       lifecycle.Config        `json:"lifecycle,omitempty"`
	Tracing         telemetry.TracingConfig `json:"tracing,omitempty"`
	Jobs            jobapi.Config           `json:"jobs,omitempty"`
	Oran            OranConfig              `json:"oran,omitempty"`
	State           state.Config            `json:"state,omitempty"`
	Secrets         map[string]spec.Secret  `json:"secrets,omitempty"`
	Sources         map[string]skipped      `json:"sources,omitempty"`
	Targets         map[string]skipped      `json:"targets,omitempty"`
	Rules           map[string]skipped      `json:"rules,omitempty"`
}

// skipped is a resource left undecoded by the first pass: each is decoded
// on its own afterwards (decoding 10,000 rules into maps first, only to
// read their names, cost a third of the parse).
type skipped struct{}

func (*skipped) UnmarshalYAML(ast.Node) error { return nil }

// Parse reads a config from YAML. Its error is a *spec.ValidationError
// listing every problem with its path and, where known, its line.
func Parse(data []byte) (*Config, error) {
	p := spec.NewProblems("")
	f, err := parseYAML(data)
	defer entries.drop(f) // the index must not keep the file alive
	if err != nil {
		addYAMLError(p, "", err)
		return nil, p.Err()
	}
	var top file
	if len(bytes.TrimSpace(data)) > 0 {
		if err := yaml.NodeToValue(docBody(f), &top, yaml.DisallowUnknownField()); err != nil {
			addYAMLError(p, "", err)
			return nil, p.Err()
		}
	}
	c := &Config{
		Instance: top.Instance, Log: top.Log, Bus: top.Bus, API: top.API, ShutdownTimeout: top.ShutdownTimeout, Lifecycle: top.Lifecycle, Tracing: top.Tracing,
		Jobs:    top.Jobs,
		Oran:    top.Oran,
		State:   top.State,
		Sources: map[string]connector.Config{},
		Targets: map[string]connector.Config{},
		Rules:   map[string]*resource.Rule{},
	}
	// Each rule on its own, so that one rule's bad field hides nothing else.
	// A rule is read once as plain values, which give its spec as stored
	// (JSON) and, decoded the way the store's copy is, the rule; only a
	// rule that this refuses is decoded from the YAML, for its problems'
	// lines (a YAML decode into the struct cost more than the rest of the
	// parse, with 10,000 rules).
	rawRules := make(map[string]json.RawMessage, len(top.Rules))
	plain := make(map[string]*resource.Rule, len(top.Rules))
	for name := range top.Rules {
		path := "rules." + name
		var r *resource.Rule
		if node := lookup(f, path); node != nil && node.Type() != ast.NullType {
			raw := nodeJSON(node)
			r = &resource.Rule{}
			if raw != nil && strictJSON(raw, r) == nil {
				plain[name] = r
			} else {
				r = &resource.Rule{}
				if err := yaml.NodeToValue(node, r, yaml.DisallowUnknownField()); err != nil {
					addYAMLError(p, path, err)
					continue
				}
			}
			if raw != nil {
				rawRules[name] = raw
			}
		}
		c.Rules[name] = r
	}
	for name := range top.Sources {
		path := "sources." + name
		if !spec.ValidName(name) {
			p.AddAt(path, "invalid name: %s", spec.NameRule)
			continue
		}
		cfg := decodeConnector(f, p, path, func(typ string) (connector.Config, bool) {
			t, ok := connector.LookupSource(typ)
			if !ok {
				return nil, false
			}
			return t.NewConfig(), true
		}, connector.SourceTypes)
		if cfg != nil {
			c.Sources[name] = cfg
		}
	}
	for name := range top.Targets {
		path := "targets." + name
		if !spec.ValidName(name) {
			p.AddAt(path, "invalid name: %s", spec.NameRule)
			continue
		}
		cfg := decodeConnector(f, p, path, func(typ string) (connector.Config, bool) {
			t, ok := connector.LookupTarget(typ)
			if !ok {
				return nil, false
			}
			return t.NewConfig(), true
		}, connector.TargetTypes)
		if cfg != nil {
			c.Targets[name] = cfg
		}
	}
	for name, r := range c.Rules {
		if r == nil {
			p.AddAt("rules."+name, "empty rule: a rule needs targets")
			delete(c.Rules, name)
		}
	}
	// A resource that could not be decoded is left out; the rest is still
	// checked, so that every problem is reported at once.
	c.undecoded = map[string]bool{}
	for name := range top.Sources {
		if _, ok := c.Sources[name]; !ok {
			c.undecoded["sources."+name] = true
		}
	}
	for name := range top.Targets {
		if _, ok := c.Targets[name]; !ok {
			c.undecoded["targets."+name] = true
		}
	}
	c.raw = rawSpecs(f, c, rawRules)
	// The named secrets first: the rest of the file may refer to them.
	values := spec.Expand(&top.Secrets, p.At("secrets"), spec.Refs{EnvFile: true})
	c.Secrets = top.Secrets
	refs := c.Refs(resource.OriginFile)
	values = append(values, spec.Expand(c, p, refs)...)
	for name, s := range c.Sources {
		values = append(values, spec.Expand(s, p.At("sources").At(name), refs)...)
	}
	for name, t := range c.Targets {
		values = append(values, spec.Expand(t, p.At("targets").At(name), refs)...)
	}
	for name, r := range c.Rules {
		if raw, ok := rawRules[name]; ok && plain[name] == r && !bytes.Contains(raw, []byte("${")) {
			continue // decoded from raw (our own JSON, no escapes), which holds no reference
		}
		values = append(values, spec.Expand(r, p.At("rules").At(name), refs)...)
	}
	c.Defaults()
	for _, s := range c.Sources {
		s.Defaults()
	}
	for _, t := range c.Targets {
		t.Defaults()
	}
	c.Validate(p)
	compactPatterns(c.Rules)
	p.Scrub(values)
	locate(f, p)
	if err := p.Err(); err != nil {
		return c, err
	}
	// Decoded from their stored JSON with the controller's reference
	// policy (the file's), defaulted and validated as it does: the
	// controller takes them as they are (Objects).
	c.decoded = plain
	return c, nil
}

func decodeConnector(f *ast.File, p spec.Problems, path string, newCfg func(string) (connector.Config, bool), types func() []string) connector.Config {
	node := lookup(f, path)
	if node == nil {
		return nil
	}
	var head struct {
		Type string `json:"type"`
	}
	_ = yaml.NodeToValue(node, &head)
	if head.Type == "" {
		p.AddAt(path+".type", "required: one of %s", strings.Join(types(), ", "))
		return nil
	}
	cfg, ok := newCfg(head.Type)
	if !ok {
		p.AddAt(path+".type", "unknown type %q: one of %s", head.Type, strings.Join(types(), ", "))
		return nil
	}
	if err := yaml.NodeToValue(node, cfg, yaml.DisallowUnknownField()); err != nil {
		addYAMLError(p, path, err)
		return nil
	}
	return cfg
}

// rawSpecs reads every resource's node back as JSON, as written; rules
// holds the rules' already read.
func rawSpecs(f *ast.File, c *Config, rules map[string]json.RawMessage) map[string]json.RawMessage {
	out := make(map[string]json.RawMessage, len(c.Sources)+len(c.Targets)+len(c.Rules))
	add := func(kind resource.Kind, section, name string) {
		n := lookup(f, section+"."+name)
		if n == nil {
			return
		}
		if b := nodeJSON(n); b != nil {
			out[resource.Key(kind, name)] = b
		}
	}
	for name := range c.Sources {
		add(resource.KindSource, "sources", name)
	}
	for name := range c.Targets {
		add(resource.KindTarget, "targets", name)
	}
	for name := range c.Rules {
		if b, ok := rules[name]; ok {
			out[resource.Key(resource.KindRule, name)] = b
			continue
		}
		add(resource.KindRule, "rules", name)
	}
	return out
}

// nodeJSON is a node's plain values as JSON (nil if it has none).
func nodeJSON(n ast.Node) json.RawMessage {
	v, ok := plainValue(n)
	if !ok {
		if err := yaml.NodeToValue(n, &v); err != nil {
			return nil
		}
	}
	b, err := json.Marshal(jsonable(v))
	if err != nil {
		return nil
	}
	return b
}

// plainValue is the value of a node made only of mappings with plain
// string keys, sequences and untagged scalars, as yaml.NodeToValue gives
// it into an any (without its reflection: 10,000 rules); ok is false for
// anything else (tags, anchors, aliases, merge keys, duplicate keys),
// left to yaml.NodeToValue.
func plainValue(n ast.Node) (v any, ok bool) {
	switch n := n.(type) {
	case *ast.NullNode:
		return nil, true
	case *ast.StringNode:
		return n.GetValue(), true
	case *ast.IntegerNode:
		return n.GetValue(), true
	case *ast.FloatNode:
		return n.GetValue(), true
	case *ast.BoolNode:
		return n.GetValue(), true
	case *ast.LiteralNode:
		return n.Value.GetValue(), true
	case *ast.MappingValueNode:
		m := make(map[string]any, 1)
		return m, plainEntry(n, m)
	case *ast.MappingNode:
		m := make(map[string]any, len(n.Values))
		for _, e := range n.Values {
			if !plainEntry(e, m) {
				return nil, false
			}
		}
		return m, true
	case *ast.SequenceNode:
		out := make([]any, 0, len(n.Values))
		for _, e := range n.Values {
			ev, ok := plainValue(e)
			if !ok {
				return nil, false
			}
			out = append(out, ev)
		}
		return out, true
	}
	return nil, false
}

// plainEntry adds the entry e to m, if its key is a plain string met
// for the first time and its value is plain.
func plainEntry(e *ast.MappingValueNode, m map[string]any) bool {
	k, ok := e.Key.(*ast.StringNode)
	if !ok || e.Key.IsMergeKey() {
		return false
	}
	if _, dup := m[k.Value]; dup {
		return false
	}
	v, ok := plainValue(e.Value)
	if !ok {
		return false
	}
	m[k.Value] = v
	return true
}

// strictJSON decodes raw into v as the store's copy of a resource is
// decoded (resource.DecodeRuleRefs): unknown fields and trailing data
// refused.
func strictJSON(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("unexpected data after the JSON object")
	}
	return nil
}

// compactPatterns keeps each rule's event pattern as JSON text rather
// than the maps YAML decoded (a tenth of the size: a running bridge keeps
// its config, and a config may have 10,000 rules). Filters compile from
// either form alike.
func compactPatterns(rules map[string]*resource.Rule) {
	for _, r := range rules {
		if r == nil || r.Filter.Pattern == nil {
			continue
		}
		if _, ok := r.Filter.Pattern.(json.RawMessage); ok {
			continue
		}
		if raw, err := json.Marshal(jsonable(r.Filter.Pattern)); err == nil {
			r.Filter.Pattern = json.RawMessage(raw)
		}
	}
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

// addYAMLError records a decoder error with its position.
func addYAMLError(p spec.Problems, path string, err error) {
	var ye yaml.Error
	if errors.As(err, &ye) {
		pr := spec.Problem{Path: path, Reason: strings.TrimSpace(ye.GetMessage())}
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			pr.Line, pr.Column = tk.Position.Line, tk.Position.Column
		}
		p.Append(pr)
		return
	}
	p.AddAt(path, "%v", err)
}

// locate fills in the line of problems that lack one, from their path (or
// the nearest parent path that exists in the file).
func locate(f *ast.File, p spec.Problems) {
	p.Locate(func(path string) (int, int) {
		for ; path != ""; path = parent(path) {
			if n := lookup(f, path); n != nil {
				if tk := n.GetToken(); tk != nil && tk.Position != nil {
					return tk.Position.Line, tk.Position.Column
				}
			}
		}
		return 0, 0
	})
}

func lookup(f *ast.File, path string) ast.Node {
	if section, name, ok := strings.Cut(path, "."); ok && !strings.ContainsAny(name, ".[") {
		if n, ok := entries.get(f, section)[name]; ok {
			return n
		}
	}
	yp, err := yaml.PathString("$." + quotePath(path))
	if err != nil {
		return nil
	}
	n, err := yp.FilterFile(f)
	if err != nil {
		return nil
	}
	return n
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

func parent(path string) string {
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

func docBody(f *ast.File) ast.Node {
	if len(f.Docs) == 0 {
		return nil
	}
	return f.Docs[0].Body
}

// String renders problems the way `eventbridge validate` prints them.
func String(err error) string {
	var ve *spec.ValidationError
	if !errors.As(err, &ve) {
		return err.Error()
	}
	var b strings.Builder
	for _, pr := range ve.Problems {
		if pr.Line > 0 {
			fmt.Fprintf(&b, "line %d: ", pr.Line)
		}
		if pr.Path != "" {
			b.WriteString(pr.Path + ": ")
		}
		b.WriteString(pr.Reason + "\n")
	}
	return b.String()
}

// entries indexes the entries of the top-level sections of the file last
// parsed, so that finding one of 10,000 rules does not scan the others
// (a YAML path lookup does: start-up was quadratic in the rules).
var entries sectionIndex

type sectionIndex struct {
	mu sync.Mutex
	f  *ast.File
	m  map[string]map[string]ast.Node
}

// drop forgets the index of f.
func (s *sectionIndex) drop(f *ast.File) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == f {
		s.f, s.m = nil, nil
	}
}

// get returns the plain entries of section (a mapping at the top of f) by
// key. An entry it does not hold (an alias, a merge key, a duplicate, a
// key that is not a plain string) is looked up by its YAML path.
func (s *sectionIndex) get(f *ast.File, section string) map[string]ast.Node {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f != f {
		s.f, s.m = f, map[string]map[string]ast.Node{}
	}
	if m, ok := s.m[section]; ok {
		return m
	}
	m := map[string]ast.Node{}
	s.m[section] = m
	yp, err := yaml.PathString("$." + quotePath(section))
	if err != nil {
		return m
	}
	n, err := yp.FilterFile(f)
	if err != nil {
		return m
	}
	var vals []*ast.MappingValueNode
	switch n := n.(type) {
	case *ast.MappingNode:
		vals = n.Values
	case *ast.MappingValueNode:
		vals = []*ast.MappingValueNode{n}
	}
	dup := map[string]bool{}
	for _, mv := range vals {
		k, ok := mv.Key.(*ast.StringNode)
		if !ok || dup[k.Value] {
			s.m[section] = map[string]ast.Node{} // unusual: use YAML paths throughout
			return s.m[section]
		}
		dup[k.Value] = true
		if _, alias := mv.Value.(*ast.AliasNode); alias {
			continue
		}
		m[k.Value] = mv.Value
	}
	return m
}
