package filter

import (
	"encoding/json"

	"github.com/eventbridge-dev/eventbridge/internal/filter/pattern"
)

// Rule is one named filter spec given to NewMatcher.
type Rule struct {
	Name string
	Spec Spec
}

// Matcher matches an event against every rule at once. It is immutable and
// safe for concurrent use: when rules change, build a new one and swap it.
//
// EventBridge patterns go into one pattern.Machine, whose cost per event
// grows far slower than the number of patterns. Dialect filters are
// indexed too: their exact/prefix/suffix conditions on string attributes
// become a pattern that selects candidates, and the full filter then
// decides for those candidates only. CESQL filters, and dialect filters
// with nothing to index, are evaluated rule by rule.
type Matcher struct {
	names   []string
	filters []Filter
	// residual[i] must also match when the machine selects rule i; nil
	// when the machine's answer is final (pattern rules).
	residual  []Filter
	machine   *pattern.Machine
	unindexed []int
	// needData is set when an indexed pattern looks at data; otherwise the
	// machine is given the event's attributes only.
	needData bool
}

// NewMatcher compiles every rule. The error maps each bad rule's name to
// its Errors; no matcher is returned then.
func NewMatcher(rules []Rule) (*Matcher, error) {
	m := &Matcher{names: make([]string, len(rules)), filters: make([]Filter, len(rules)), residual: make([]Filter, len(rules))}
	bad := RuleErrors{}
	b := pattern.NewBuilder()
	indexed := 0
	for i, r := range rules {
		f, err := Compile(r.Spec)
		if err != nil {
			bad[r.Name] = err
			continue
		}
		m.names[i] = r.Name
		m.filters[i] = f
		switch pf := f.(type) {
		case *Pattern:
			b.Add(i, pf.p)
			m.needData = m.needData || readsData(pf.p)
			indexed++
		default:
			if p := indexPattern(r.Spec.Filters); p != nil {
				b.Add(i, p)
				m.residual[i] = f
				indexed++
			} else {
				m.unindexed = append(m.unindexed, i)
			}
		}
	}
	if len(bad) > 0 {
		return nil, bad
	}
	if indexed > 0 {
		m.machine = b.Build()
	}
	return m, nil
}

// Len returns the number of rules.
func (m *Matcher) Len() int { return len(m.names) }

// Name returns the name of rule i.
func (m *Matcher) Name(i int) string { return m.names[i] }

// Match appends to dst the indexes (in the order given to NewMatcher) of the
// rules whose filter matches, in no particular order, and returns it.
func (m *Matcher) Match(in *Input, dst []int) []int {
	if m.machine != nil {
		start := len(dst)
		form := in.FormAttributes()
		if m.needData {
			form = in.Form()
		}
		dst = m.machine.Match(form, dst)
		kept := dst[:start]
		for _, i := range dst[start:] {
			if r := m.residual[i]; r == nil || r.Match(in) {
				kept = append(kept, i)
			}
		}
		dst = kept
	}
	for _, i := range m.unindexed {
		if m.filters[i].Match(in) {
			dst = append(dst, i)
		}
	}
	return dst
}

func readsData(p *pattern.Pattern) bool {
	for _, k := range p.TopLevelKeys() {
		if k == "data" || k == "data_base64" {
			return true
		}
	}
	return false
}

// indexableAttrs are the attributes whose JSON-form value is the same
// string the dialects compare.
var indexableAttrs = map[string]bool{
	"id": true, "source": true, "type": true, "subject": true, "specversion": true,
	"datacontenttype": true, "dataschema": true,
}

// indexPattern builds, from the top-level dialect filters (which are
// ANDed), an EventBridge pattern that every matching event also matches:
// exact, prefix and suffix conditions on string attributes, inside "all"
// and, when every branch gives one, "any" (as "$or"). It returns nil when
// there is nothing to index.
func indexPattern(filters []any) *pattern.Pattern {
	conds := necessary(map[string]any{"all": filters})
	if len(conds) == 0 {
		return nil
	}
	raw, err := json.Marshal(conds)
	if err != nil {
		return nil
	}
	p, err := pattern.Compile(raw)
	if err != nil {
		return nil
	}
	return p
}

// necessary returns a pattern (as a JSON-like map) that every event
// matching the dialect filter f matches, or nil when none can be derived.
func necessary(f any) map[string]any {
	m, ok := normalizeYAML(f).(map[string]any)
	if !ok || len(m) != 1 {
		return nil
	}
	for dialect, arg := range m {
		switch dialect {
		case "exact", "prefix", "suffix":
			attrs, _ := arg.(map[string]any)
			conds := map[string]any{}
			for name, v := range attrs {
				s, ok := v.(string)
				if !ok || s == "" || !indexableAttrs[name] {
					continue
				}
				if dialect == "exact" {
					conds[name] = []any{s}
				} else {
					conds[name] = []any{map[string]any{dialect: s}}
				}
			}
			if len(conds) == 0 {
				return nil
			}
			return conds
		case "all":
			list, _ := arg.([]any)
			conds := map[string]any{}
			for _, e := range list {
				for k, v := range necessary(e) {
					if _, dup := conds[k]; !dup { // one condition per key selects enough
						conds[k] = v
					}
				}
			}
			if len(conds) == 0 {
				return nil
			}
			return conds
		case "any":
			list, _ := arg.([]any)
			var alts []any
			for _, e := range list {
				c := necessary(e)
				if c == nil {
					return nil // this branch could match anything
				}
				alts = append(alts, c)
			}
			switch len(alts) {
			case 0:
				return nil
			case 1:
				return alts[0].(map[string]any)
			}
			return map[string]any{"$or": alts}
		}
	}
	return nil
}

// RuleErrors maps rule names to their compile errors.
type RuleErrors map[string]error

func (r RuleErrors) Error() string {
	s := ""
	for name, err := range r {
		if s != "" {
			s += "; "
		}
		s += "rule " + name + ": " + err.Error()
	}
	return s
}
