package cli

import (
	"encoding/json"
	"maps"
	"reflect"
	"slices"

	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
	"github.com/eventbridge-dev/eventbridge/pkg/client"
)

// specDiff compares the spec apply would send with the one the API shows.
type specDiff struct {
	// changed lists the top-level fields that differ.
	changed []string
	// secrets is set when the desired spec holds secret values: the API
	// shows them as "***", so they cannot be compared.
	secrets bool
}

func (d specDiff) equal() bool { return len(d.changed) == 0 }

// compareSpec puts the desired spec in the form the API shows specs in
// (for sources and targets: decoded into the connector's config and
// encoded again, with secret values as "***"), and compares.
func compareSpec(kind client.Kind, desired, current json.RawMessage) specDiff {
	want, secrets := shownForm(kind, desired)
	var have map[string]any
	_ = json.Unmarshal(current, &have)
	d := specDiff{secrets: secrets}
	keys := map[string]bool{}
	for k := range want {
		keys[k] = true
	}
	for k := range have {
		keys[k] = true
	}
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		if !reflect.DeepEqual(want[k], have[k]) {
			d.changed = append(d.changed, k)
		}
	}
	return d
}

// shownForm returns a spec as the API would show it, and whether it holds
// secret values.
func shownForm(kind client.Kind, raw json.RawMessage) (map[string]any, bool) {
	var plain map[string]any
	_ = json.Unmarshal(raw, &plain)
	var cfg connector.Config
	var head struct {
		Type string `json:"type"`
	}
	_ = json.Unmarshal(raw, &head)
	switch kind {
	case client.KindSource:
		if t, ok := connector.LookupSource(head.Type); ok {
			cfg = t.NewConfig()
		}
	case client.KindTarget:
		if t, ok := connector.LookupTarget(head.Type); ok {
			cfg = t.NewConfig()
		}
	}
	if cfg == nil || json.Unmarshal(raw, cfg) != nil {
		return plain, false
	}
	before, err := json.Marshal(cfg)
	if err != nil {
		return plain, false
	}
	spec.Redact(cfg)
	after, err := json.Marshal(cfg)
	if err != nil {
		return plain, false
	}
	var shown map[string]any
	_ = json.Unmarshal(after, &shown)
	return shown, string(before) != string(after)
}
