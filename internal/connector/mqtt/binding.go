// Package mqtt is the MQTT connector: a source that subscribes to topic
// filters (shared subscriptions included) and a target that publishes,
// over MQTT 5 (github.com/eclipse/paho.golang, autopaho) or MQTT 3.1.1
// (github.com/eclipse/paho.mqtt.golang), with the CloudEvents MQTT
// protocol binding: binary mode through MQTT 5 user properties, structured
// mode (application/cloudevents+json) in both versions.
package mqtt

import (
	"errors"
	"sort"
	"strings"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventbridge-dev/eventbridge/internal/connector"
	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
)

// Media types of the binding.
const (
	MediaStructured = "application/cloudevents+json"
	contentTypeJSON = MediaStructured + "; charset=utf-8"
)

// Mode is how an event travels in a PUBLISH.
type Mode string

// The modes.
const (
	ModeBinary     Mode = "binary"     // payload = data, attributes in user properties (MQTT 5)
	ModeStructured Mode = "structured" // payload = the JSON event format
)

// Property is an MQTT 5 user property.
type Property struct{ Key, Value string }

// Message is a PUBLISH as the binding sees it, whichever protocol version
// carried it.
type Message struct {
	Topic   string
	Payload []byte
	// ContentType is the MQTT 5 Content Type property ("" in 3.1.1).
	ContentType string
	// Properties are the MQTT 5 user properties, in order.
	Properties []Property
	QoS        byte
	Retain     bool
}

// errNotCloudEvent says a message carries no sign of being a CloudEvent:
// neither a CloudEvents content type, nor a specversion user property,
// nor a JSON object with a specversion member.
var errNotCloudEvent = errors.New("not a CloudEvent: no CloudEvents content type, no specversion user property, no JSON event in the payload")

// Decode reads the event in m. MQTT 5 (v5): a Content Type starting with
// application/cloudevents means structured mode; else user properties
// with a specversion mean binary mode (attribute names as they are; the
// "ce-" prefix sdk-go writes is accepted too); else a payload that is a
// JSON object with a specversion member is read as structured, as MQTT
// 3.1.1 publishers send it. MQTT 3.1.1: structured only. A message with
// none of these signs returns errNotCloudEvent; one that has them but is
// not a valid event returns an *event.ValidationError.
func Decode(m *Message, v5 bool) (*ce.Event, error) {
	if v5 {
		if mt := connector.MediaType(m.ContentType); strings.HasPrefix(mt, "application/cloudevents") {
			if mt != MediaStructured && mt != "application/cloudevents" {
				var ve ebevent.ValidationError
				ve.Add("datacontenttype", "content type %q: only the JSON event format (%s) is supported", m.ContentType, MediaStructured)
				return nil, ve.Err()
			}
			return ebevent.DecodeJSON(m.Payload)
		}
		if attrs, ok, err := binaryAttributes(m.Properties); ok {
			if err != nil {
				return nil, err
			}
			return ebevent.FromBinary(attrs, m.ContentType, m.Payload)
		}
	}
	if connector.LooksStructured(m.Payload) {
		return ebevent.DecodeJSON(m.Payload)
	}
	return nil, errNotCloudEvent
}

// binaryAttributes collects the user properties that name attributes.
// Properties whose names are not attribute names (after dropping a "ce-"
// prefix) are not CloudEvents metadata and are skipped. ok reports a
// specversion property: the sign of a binary-mode event.
func binaryAttributes(props []Property) (attrs map[string]string, ok bool, err error) {
	var ve ebevent.ValidationError
	attrs = make(map[string]string, len(props))
	for _, p := range props {
		name := p.Key
		if rest, found := strings.CutPrefix(name, "ce-"); found && ebevent.ValidAttributeName(rest) {
			name = rest
		}
		if !ebevent.ValidAttributeName(name) {
			continue
		}
		if prev, dup := attrs[name]; dup && prev != p.Value {
			ve.Add(name, "user property %s is sent twice with different values; an attribute has one value", name)
			continue
		}
		attrs[name] = p.Value
	}
	_, ok = attrs["specversion"]
	return attrs, ok, ve.Err()
}

// Encode writes e as a message in mode (structured is the only mode of
// MQTT 3.1.1; the caller checks). The topic, QoS and retain flag are the
// caller's.
func Encode(e *ce.Event, mode Mode) (*Message, error) {
	if mode == ModeStructured {
		b, err := ebevent.EncodeJSON(e)
		if err != nil {
			return nil, err
		}
		return &Message{Payload: b, ContentType: contentTypeJSON}, nil
	}
	attrs := ebevent.BinaryAttributes(e)
	names := make([]string, 0, len(attrs))
	for k := range attrs {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool {
		ri, rj := rank(names[i]), rank(names[j])
		if ri != rj {
			return ri < rj
		}
		return names[i] < names[j]
	})
	props := make([]Property, len(names))
	for i, k := range names {
		props[i] = Property{Key: k, Value: attrs[k]}
	}
	return &Message{Payload: e.Data(), ContentType: e.DataContentType(), Properties: props}, nil
}

// rank puts the required attributes first, as the spec's examples do.
func rank(name string) int {
	switch name {
	case "specversion":
		return 0
	case "id":
		return 1
	case "source":
		return 2
	case "type":
		return 3
	}
	return 4
}
