package eventgrid

import (
	"bytes"
	"encoding/json"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventbridge-dev/eventbridge/internal/connector/webhook"
	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
)

// gridEvent is an event in the Event Grid schema.
type gridEvent struct {
	ID              string          `json:"id"`
	Topic           string          `json:"topic"`
	Subject         string          `json:"subject"`
	EventType       string          `json:"eventType"`
	EventTime       string          `json:"eventTime"`
	Data            json.RawMessage `json:"data"`
	DataVersion     string          `json:"dataVersion"`
	MetadataVersion string          `json:"metadataVersion"`
}

// fromEventGrid maps an Event Grid schema event to a CloudEvent, as
// Microsoft maps the two schemas:
//
//	id          = id
//	source      = topic
//	type        = eventType
//	subject     = subject (left out when "")
//	time        = eventTime
//	data        = data (application/json)
//	dataversion = dataVersion (an extension: it is no URI, so not dataschema)
func fromEventGrid(raw []byte) (*ce.Event, error) {
	var g gridEvent
	if err := json.Unmarshal(raw, &g); err != nil {
		var ve ebevent.ValidationError
		ve.Add("", "not an Event Grid event: %v", err)
		return nil, ve.Err()
	}
	var ve ebevent.ValidationError
	for name, v := range map[string]string{"id": g.ID, "topic": g.Topic, "eventType": g.EventType} {
		if v == "" {
			ve.Add(name, "missing: an Event Grid event needs id, topic and eventType")
		}
	}
	var t time.Time
	if g.EventTime != "" {
		var err error
		if t, err = time.Parse(time.RFC3339Nano, g.EventTime); err != nil {
			ve.Add("eventTime", "not an RFC 3339 time")
		}
	}
	if err := ve.Err(); err != nil {
		return nil, err
	}
	data := bytes.TrimSpace(g.Data)
	if bytes.Equal(data, []byte("null")) {
		data = nil
	}
	ev := &webhook.Event{
		ID:              g.ID,
		Source:          g.Topic,
		Type:            g.EventType,
		Subject:         g.Subject,
		Time:            t,
		DataContentType: "application/json",
		Data:            data,
	}
	if g.DataVersion != "" {
		ev.Extensions = map[string]string{"dataversion": g.DataVersion}
	}
	return ev.Build()
}
