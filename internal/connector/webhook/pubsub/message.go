package pubsub

import (
	"encoding/base64"
	"encoding/json"
	"maps"
	"mime"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventbridge-dev/eventbridge/internal/connector/webhook"
	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
)

// Message is one Pub/Sub message as pushed.
type Message struct {
	Data         []byte
	Attributes   map[string]string
	ID           string
	PublishTime  string
	OrderingKey  string
	Subscription string
	// ContentType is the HTTP Content-Type of an unwrapped delivery.
	ContentType string
}

// push is the wrapper of a push delivery; ids and times come in camel
// and snake case.
type push struct {
	Message *struct {
		Data         *string           `json:"data"`
		Attributes   map[string]string `json:"attributes"`
		MessageID    string            `json:"messageId"`
		MessageID2   string            `json:"message_id"`
		PublishTime  string            `json:"publishTime"`
		PublishTime2 string            `json:"publish_time"`
		OrderingKey  string            `json:"orderingKey"`
	} `json:"message"`
	Subscription string `json:"subscription"`
}

// ParsePush reads the JSON wrapper of a push delivery.
func ParsePush(body []byte) (*Message, error) {
	var p push
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, webhook.Invalidf("not a Pub/Sub push request: %v", err)
	}
	if p.Message == nil {
		return nil, webhook.Invalidf("not a Pub/Sub push request: no message (is payload unwrapping on? set unwrapped)")
	}
	pm := p.Message
	m := &Message{
		Attributes:   pm.Attributes,
		ID:           first(pm.MessageID, pm.MessageID2),
		PublishTime:  first(pm.PublishTime, pm.PublishTime2),
		OrderingKey:  pm.OrderingKey,
		Subscription: p.Subscription,
	}
	if m.ID == "" {
		return nil, webhook.Invalidf("the message has no messageId")
	}
	if pm.Data != nil {
		d, err := base64.StdEncoding.DecodeString(*pm.Data)
		if err != nil {
			return nil, webhook.Invalidf("message.data is not base64: %v", err)
		}
		m.Data = d
	}
	return m, nil
}

// Event returns the message as a CloudEvent. When the message is one
// already, it is that event:
//   - binary mode of the Pub/Sub binding: ce- attributes (ce-id,
//     ce-source, …), the Content-Type attribute as datacontenttype;
//   - structured mode: a Content-Type attribute of application/cloudevents…,
//     or data that is a JSON object with specversion.
//
// Otherwise:
//
//	id          = messageId
//	source      = the configured source, else //pubsub.googleapis.com/<subscription>
//	type        = the configured event_type
//	time        = publishTime
//	subject     = the attribute named by subject_attribute
//	data        = the decoded data; datacontenttype the Content-Type
//	              attribute, else application/json for JSON data,
//	              text/plain; charset=utf-8 for other UTF-8 text (no
//	              control characters but tab and line ends), else
//	              application/octet-stream
//	extensions  = the other attributes, names lower-cased with characters
//	              outside a-z0-9 dropped; orderingkey = orderingKey
func (m *Message) Event(cfg *Config) (*ce.Event, error) {
	if e, ok, err := m.cloudEvent(); ok {
		return e, err
	}
	src := cfg.Source
	if src == "" {
		if m.Subscription == "" {
			return nil, webhook.Invalidf("the push request names no subscription; configure source")
		}
		src = "//pubsub.googleapis.com/" + m.Subscription
	}
	ev := &webhook.Event{
		ID:         m.ID,
		Source:     src,
		Type:       cfg.EventType,
		Data:       m.Data,
		Extensions: map[string]string{},
	}
	if m.PublishTime != "" {
		t, err := time.Parse(time.RFC3339Nano, m.PublishTime)
		if err != nil {
			return nil, webhook.Invalidf("publishTime %q is not RFC 3339", m.PublishTime)
		}
		ev.Time = t
	}
	ct := first(attr(m.Attributes, "content-type"), m.ContentType)
	if _, _, err := mime.ParseMediaType(ct); err != nil || ct == "" {
		switch {
		case json.Valid(m.Data):
			ct = "application/json"
		case isText(m.Data):
			ct = "text/plain; charset=utf-8"
		default:
			ct = "application/octet-stream"
		}
	}
	if len(m.Data) > 0 {
		ev.DataContentType = ct
	}
	for _, k := range slices.Sorted(maps.Keys(m.Attributes)) {
		if cfg.SubjectAttribute != "" && k == cfg.SubjectAttribute {
			ev.Subject = m.Attributes[k]
			continue
		}
		if strings.EqualFold(k, "content-type") {
			continue
		}
		if n := webhook.ExtensionName(k); n != "" {
			if _, dup := ev.Extensions[n]; !dup {
				ev.Extensions[n] = m.Attributes[k]
			}
		}
	}
	if _, set := ev.Extensions["orderingkey"]; !set && m.OrderingKey != "" {
		ev.Extensions["orderingkey"] = m.OrderingKey
	}
	return ev.Build()
}

// cloudEvent returns the event the message carries, if it carries one.
func (m *Message) cloudEvent() (*ce.Event, bool, error) {
	if attr(m.Attributes, "ce-specversion") != "" {
		attrs := map[string]string{}
		for k, v := range m.Attributes {
			if len(k) > 3 && strings.EqualFold(k[:3], "ce-") {
				attrs[strings.ToLower(k[3:])] = v
			}
		}
		ct := first(attr(m.Attributes, "content-type"), attrs["datacontenttype"])
		delete(attrs, "datacontenttype")
		e, err := ebevent.FromBinary(attrs, ct, m.Data)
		return e, true, err
	}
	ct := first(attr(m.Attributes, "content-type"), m.ContentType)
	if strings.HasPrefix(strings.ToLower(ct), "application/cloudevents") || isCloudEvent(m.Data) {
		e, err := ebevent.DecodeJSON(m.Data)
		return e, true, err
	}
	return nil, false, nil
}

func isText(data []byte) bool {
	if !utf8.Valid(data) {
		return false
	}
	for _, r := range string(data) {
		if unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r' {
			return false
		}
	}
	return true
}

func isCloudEvent(data []byte) bool {
	var probe struct {
		SpecVersion json.RawMessage `json:"specversion"`
	}
	return json.Unmarshal(data, &probe) == nil && probe.SpecVersion != nil
}

// attr returns the attribute named name, case-insensitively (the binding
// says attribute names are).
func attr(attrs map[string]string, name string) string {
	if v, ok := attrs[name]; ok {
		return v
	}
	for k, v := range attrs {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

func first(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
