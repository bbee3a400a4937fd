package resource

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

// DecodeConnector decodes a source or target spec sent through the API:
// DecodeConnectorRefs with no named secrets, so that ${env:…} and
// ${file:…} are refused and never read.
func DecodeConnector(kind Kind, raw json.RawMessage, prefix string) (connector.Config, error) {
	return DecodeConnectorRefs(kind, raw, prefix, spec.Refs{})
}

// DecodeConnectorRefs decodes a source or target spec from JSON into its
// typed config (chosen by "type"), expands the references refs allows,
// applies defaults and validates. The error is a *spec.ValidationError
// with paths under prefix; no problem shows a value a reference put in.
func DecodeConnectorRefs(kind Kind, raw json.RawMessage, prefix string, refs spec.Refs) (connector.Config, error) {
	p := spec.NewProblems(prefix)
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		p.Add("not a JSON object: %v", err)
		return nil, p.Err()
	}
	var cfg connector.Config
	var types []string
	switch kind {
	case KindSource:
		if t, ok := connector.LookupSource(head.Type); ok {
			cfg = t.NewConfig()
		}
		types = connector.SourceTypes()
	case KindTarget:
		if t, ok := connector.LookupTarget(head.Type); ok {
			cfg = t.NewConfig()
		}
		types = connector.TargetTypes()
	default:
		return nil, fmt.Errorf("resource: %s is not a connector kind", kind)
	}
	switch {
	case head.Type == "":
		p.AddAt("type", "required: one of %s", strings.Join(types, ", "))
		return nil, p.Err()
	case cfg == nil:
		p.AddAt("type", "unknown type %q: one of %s", head.Type, strings.Join(types, ", "))
		return nil, p.Err()
	}
	if err := strictJSON(raw, cfg); err != nil {
		p.Add("%v", err)
		return nil, p.Err()
	}
	values := spec.Expand(cfg, p, refs)
	if p.Len() > 0 {
		return nil, p.Err()
	}
	cfg.Defaults()
	ValidateCommon(kind, cfg, p)
	cfg.Validate(p)
	p.Scrub(values)
	if err := p.Err(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// DecodeRule decodes a rule spec sent through the API: DecodeRuleRefs
// with the API's policy (no ${env:…} or ${file:…}).
func DecodeRule(raw json.RawMessage, prefix string) (*Rule, error) {
	return DecodeRuleRefs(raw, prefix, spec.Refs{})
}

// DecodeRuleRefs decodes a rule spec from JSON, expands the references
// refs allows, applies defaults and validates it (not whether its targets
// exist).
func DecodeRuleRefs(raw json.RawMessage, prefix string, refs spec.Refs) (*Rule, error) {
	p := spec.NewProblems(prefix)
	var r Rule
	if err := strictJSON(raw, &r); err != nil {
		p.Add("%v", err)
		return nil, p.Err()
	}
	values := spec.Expand(&r, p, refs)
	if p.Len() > 0 {
		return nil, p.Err()
	}
	r.Defaults()
	r.Validate(p)
	p.Scrub(values)
	if err := p.Err(); err != nil {
		return nil, err
	}
	return &r, nil
}

// strictJSON decodes refusing unknown fields and trailing data.
func strictJSON(raw json.RawMessage, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("unexpected data after the JSON object")
	}
	return nil
}

// Hash identifies a spec's content: equal specs (whatever their key order)
// have equal hashes.
func Hash(raw json.RawMessage) string {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		sum := sha256.Sum256(raw)
		return hex.EncodeToString(sum[:8])
	}
	h := sha256.New()
	writeCanonical(h, v)
	return hex.EncodeToString(h.Sum(nil)[:8])
}

func writeCanonical(w interface{ Write([]byte) (int, error) }, v any) {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		_, _ = w.Write([]byte("{"))
		for _, k := range keys {
			b, _ := json.Marshal(k)
			_, _ = w.Write(b)
			_, _ = w.Write([]byte(":"))
			writeCanonical(w, x[k])
			_, _ = w.Write([]byte(","))
		}
		_, _ = w.Write([]byte("}"))
	case []any:
		_, _ = w.Write([]byte("["))
		for _, e := range x {
			writeCanonical(w, e)
			_, _ = w.Write([]byte(","))
		}
		_, _ = w.Write([]byte("]"))
	default:
		b, _ := json.Marshal(x)
		_, _ = w.Write(b)
	}
}

// ValidateCommon checks the fields every connector of kind has (the
// config file and the API check them the same way).
func ValidateCommon(kind Kind, cfg connector.Config, p spec.Problems) {
	b := cfg.Base()
	b.ValidateCommon(p)
	if kind == KindSource && (b.RateLimit != nil || b.CircuitBreaker != nil) {
		p.Add("rate_limit and circuit_breaker are settings of targets, not of sources")
	}
}
