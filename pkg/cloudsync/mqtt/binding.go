package mqtt

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/cloudevents/sdk-go/v2/event"
	cetypes "github.com/cloudevents/sdk-go/v2/types"
	"github.com/eclipse/paho.golang/paho"
)

// The CloudEvents MQTT binding as sdk-go's protocol/mqtt_paho writes it
// (the binding OCM uses): binary mode, every attribute and extension but
// datacontenttype as an MQTT 5 user property named "ce-<name>" with its
// canonical string value, datacontenttype as the Content Type property,
// the data as the payload.

// propPrefix is the user-property prefix of attributes in binary mode.
const propPrefix = "ce-"

// MediaStructured is the content type of a structured-mode event.
const MediaStructured = "application/cloudevents+json"

// errNotCloudEvent: a PUBLISH with no sign of a CloudEvent.
var errNotCloudEvent = errors.New("not a CloudEvent: no ce-specversion user property, no CloudEvents content type, no JSON event in the payload")

// WritePublish fills p (topic, QoS and retain are the caller's) with evt
// in binary mode.
func WritePublish(evt *cloudevents.Event, p *paho.Publish) error {
	if err := evt.Validate(); err != nil {
		return err
	}
	if p.Properties == nil {
		p.Properties = &paho.PublishProperties{}
	}
	ctx := evt.Context
	props := make([]paho.UserProperty, 0, 8+len(evt.Extensions()))
	add := func(name string, v any) error {
		s, err := cetypes.Format(v)
		if err != nil {
			return fmt.Errorf("attribute %s: %w", name, err)
		}
		props = append(props, paho.UserProperty{Key: propPrefix + name, Value: s})
		return nil
	}
	_ = add("specversion", ctx.GetSpecVersion())
	_ = add("id", evt.ID())
	_ = add("source", evt.Source())
	_ = add("type", evt.Type())
	if s := evt.DataSchema(); s != "" {
		_ = add("dataschema", s)
	}
	if s := evt.Subject(); s != "" {
		_ = add("subject", s)
	}
	if t := evt.Time(); !t.IsZero() {
		_ = add("time", t)
	}
	exts := evt.Extensions()
	names := make([]string, 0, len(exts))
	for k := range exts {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if err := add(k, exts[k]); err != nil {
			return err
		}
	}
	p.Properties.User = props
	p.Properties.ContentType = evt.DataContentType()
	p.Payload = evt.Data()
	return nil
}

// ReadPublish reads the event of a received PUBLISH: binary mode (a
// "ce-specversion" user property; unprefixed attribute names, as older
// sdk-go versions wrote them, are accepted too) or structured mode (a
// Content Type of application/cloudevents+json, or a payload that is a
// JSON event).
func ReadPublish(p *paho.Publish) (*cloudevents.Event, error) {
	var ct string
	var user paho.UserProperties
	if p.Properties != nil {
		ct, user = p.Properties.ContentType, p.Properties.User
	}
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(ct)), "application/cloudevents") {
		return readStructured(p.Payload)
	}
	prefix := ""
	switch {
	case user.Get(propPrefix+"specversion") != "":
		prefix = propPrefix
	case user.Get("specversion") != "":
	default:
		if looksStructured(p.Payload) {
			return readStructured(p.Payload)
		}
		return nil, errNotCloudEvent
	}
	evt := cloudevents.NewEvent(user.Get(prefix + "specversion"))
	for _, u := range user {
		name, ok := strings.CutPrefix(u.Key, prefix)
		if !ok || name == "" {
			continue
		}
		name = strings.ToLower(name)
		switch name {
		case "specversion":
		case "id":
			evt.SetID(u.Value)
		case "source":
			evt.SetSource(u.Value)
		case "type":
			evt.SetType(u.Value)
		case "subject":
			evt.SetSubject(u.Value)
		case "dataschema":
			evt.SetDataSchema(u.Value)
		case "datacontenttype":
			if ct == "" {
				ct = u.Value
			}
		case "time":
			ts, err := time.Parse(time.RFC3339Nano, u.Value)
			if err != nil {
				return nil, fmt.Errorf("attribute time %q: %w", u.Value, err)
			}
			evt.SetTime(ts)
		default:
			if prefix == "" && !validExtName(name) {
				continue // an unrelated user property
			}
			if err := evt.Context.SetExtension(name, u.Value); err != nil {
				return nil, fmt.Errorf("extension %s: %w", name, err)
			}
		}
	}
	if ct != "" {
		evt.SetDataContentType(ct)
	}
	if len(p.Payload) > 0 {
		evt.DataEncoded = append([]byte(nil), p.Payload...)
	}
	if err := evt.Validate(); err != nil {
		return nil, err
	}
	return &evt, nil
}

func readStructured(b []byte) (*cloudevents.Event, error) {
	var evt event.Event
	if err := json.Unmarshal(b, &evt); err != nil {
		return nil, fmt.Errorf("structured event: %w", err)
	}
	if err := evt.Validate(); err != nil {
		return nil, err
	}
	return &evt, nil
}

func looksStructured(b []byte) bool {
	var probe struct {
		SpecVersion json.RawMessage `json:"specversion"`
	}
	return json.Unmarshal(b, &probe) == nil && probe.SpecVersion != nil
}

// validExtName: lower-case letters and digits, as CloudEvents requires.
func validExtName(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}
