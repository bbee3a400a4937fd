package connector

import (
	"fmt"
	"sort"
	"strings"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventbridge-dev/eventbridge/internal/connector/attrtemplate"
	"github.com/eventbridge-dev/eventbridge/pkg/spec"
)

// Codec turns a message body that is not a CloudEvent in one of the
// CloudEvents formats into an event (e.g. Choria lifecycle events).
type Codec func(body []byte) (*ce.Event, error)

var codecs = map[string]Codec{}

// RegisterCodec adds a codec sources can name in their `codec` option.
// Call it from init(); it panics on a duplicate name.
func RegisterCodec(name string, c Codec) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := codecs[name]; dup || name == "" {
		panic("connector: codec " + name + " registered twice or unnamed")
	}
	codecs[name] = c
}

// Decode reads body with the source's codec. ok is false when the source
// has none (or "cloudevents"): the caller decodes the CloudEvents way.
func (c *Common) Decode(body []byte) (e *ce.Event, ok bool, err error) {
	if c.Codec == "" || c.Codec == "cloudevents" {
		return nil, false, nil
	}
	mu.RLock()
	codec := codecs[c.Codec]
	mu.RUnlock()
	if codec == nil {
		return nil, true, fmt.Errorf("unknown codec %q", c.Codec)
	}
	e, err = codec(body)
	return e, true, err
}

// DedupEnabled reports whether the bus drops events whose (source, id) it
// already holds (the default).
func (c *Common) DedupEnabled() bool { return c.Dedup == nil || *c.Dedup }

// ValidateCommon checks the fields every connector has.
func (c *Common) ValidateCommon(p spec.Problems) {
	c.validateGuards(p)
	if c.StateKey != "" {
		if _, err := attrtemplate.Parse(c.StateKey); err != nil {
			p.AddAt("state_key", "%v", err)
		}
	}
	if c.Codec != "" && c.Codec != "cloudevents" {
		mu.RLock()
		_, ok := codecs[c.Codec]
		names := []string{"cloudevents"}
		for n := range codecs {
			names = append(names, n)
		}
		mu.RUnlock()
		sort.Strings(names)
		if !ok {
			p.AddAt("codec", "unknown codec %q: one of %s", c.Codec, strings.Join(names, ", "))
		}
	}
}
