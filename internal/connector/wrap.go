package connector

import (
	"net/url"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/google/uuid"

	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

// Wrap turns a message that is not a CloudEvent into one: a new id, the
// current time, this type and source, the message as data. Sources offer
// it as the option `wrap: {type, source}`.
type Wrap struct {
	Type   string `json:"type"`
	Source string `json:"source"`
}

// Validate reports problems under p.
func (w *Wrap) Validate(p spec.Problems) {
	if w.Type == "" {
		p.AddAt("type", "required: the type of wrapped events")
	}
	if w.Source == "" {
		p.AddAt("source", "required: the source of wrapped events")
	} else if _, err := url.Parse(w.Source); err != nil {
		p.AddAt("source", "must be a URI-reference: %v", err)
	}
}

// Event wraps data of content type ct (empty: application/octet-stream).
// subject, when not empty, becomes the event's subject (a topic name, say).
func (w *Wrap) Event(data []byte, ct, subject string) *ce.Event {
	e := ce.New()
	e.SetID(uuid.NewString())
	e.SetType(w.Type)
	e.SetSource(w.Source)
	e.SetTime(time.Now().UTC())
	if subject != "" {
		e.SetSubject(subject)
	}
	if ct == "" {
		ct = "application/octet-stream"
	}
	ebevent.SetData(&e, ct, data)
	return &e
}
