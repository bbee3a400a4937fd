package lifecycle

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventbridge-dev/eventbridge/internal/connector"
	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
)

// ChoriaSource is the CloudEvents source of Choria lifecycle events.
const ChoriaSource = "io.choria.lifecycle"

// CodecChoria is the value of a source's `codec` option that reads Choria
// lifecycle events.
const CodecChoria = "choria-lifecycle"

// ErrNotLifecycle is returned for a message that is neither format.
var ErrNotLifecycle = errors.New("unsupported event format: not a Choria lifecycle event")

// ChoriaEvent is the Choria-format JSON of a lifecycle event (and the data
// of its CloudEvent form, and of ours).
type ChoriaEvent struct {
	Protocol  string `json:"protocol"`
	ID        string `json:"id,omitempty"`
	Identity  string `json:"identity,omitempty"`
	Component string `json:"component,omitempty"`
	Timestamp int64  `json:"timestamp,omitempty"`
	Version   string `json:"version,omitempty"`
	// NewVersion is set on upgraded events.
	NewVersion string `json:"new_version,omitempty"`
}

// Type returns the event's type word: startup, shutdown, alive, …
func (c ChoriaEvent) Type() string {
	p := c.Protocol
	switch {
	case strings.HasPrefix(p, "choria:lifecycle:"):
		if parts := strings.Split(p, ":"); len(parts) == 4 {
			return parts[2]
		}
	case strings.HasPrefix(p, "io.choria.lifecycle.v1."), strings.HasPrefix(p, TypePrefix):
		parts := strings.Split(p, ".")
		return parts[len(parts)-1]
	}
	return ""
}

// DecodeChoria reads a Choria lifecycle event in either of its formats —
// Choria's bare JSON or its CloudEvent form — and returns the CloudEvent
// mapping of Choria's ToCloudEventV1: type = the protocol (legacy
// choria:lifecycle:<type>:<n> rewritten to io.choria.lifecycle.v1.<type>),
// source io.choria.lifecycle, subject = identity, id, time = timestamp,
// data = the Choria JSON; component as an extension.
func DecodeChoria(body []byte) (*ce.Event, error) {
	var head struct {
		Protocol    string          `json:"protocol"`
		SpecVersion string          `json:"specversion"`
		Source      string          `json:"source"`
		Data        json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &head); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotLifecycle, err)
	}
	raw := body
	switch {
	case strings.HasPrefix(head.Protocol, "io.choria.lifecycle") || strings.HasPrefix(head.Protocol, "choria:lifecycle:"):
	case head.SpecVersion == "1.0" && head.Source == ChoriaSource:
		raw = head.Data
	default:
		return nil, ErrNotLifecycle
	}
	var c ChoriaEvent
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotLifecycle, err)
	}
	typ := c.Type()
	if typ == "" {
		return nil, fmt.Errorf("%w: invalid protocol %q", ErrNotLifecycle, c.Protocol)
	}
	if strings.HasPrefix(c.Protocol, "choria:lifecycle:") {
		c.Protocol = "io.choria.lifecycle.v1." + typ
	}
	if c.ID == "" {
		return nil, fmt.Errorf("%w: no id", ErrNotLifecycle)
	}
	e := ce.New()
	e.SetID(c.ID)
	e.SetType(c.Protocol)
	e.SetSource(ChoriaSource)
	if c.Identity != "" {
		e.SetSubject(c.Identity)
	}
	if c.Timestamp > 0 {
		e.SetTime(time.Unix(c.Timestamp, 0).UTC())
	}
	if c.Component != "" && ebevent.ValidAttributeName(c.Component) {
		e.SetExtension("component", c.Component)
	}
	data, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	ebevent.SetData(&e, ce.ApplicationJSON, data)
	if err := ebevent.Validate(&e); err != nil {
		return nil, err
	}
	return &e, nil
}

func init() { connector.RegisterCodec(CodecChoria, DecodeChoria) }
