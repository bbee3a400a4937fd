package amqp1

import (
	"bytes"
	"fmt"

	amqp "github.com/Azure/go-amqp"
	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventbridge-dev/eventbridge/internal/connector/amqpbinding"
	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
)

// natives are the attribute types sent as native AMQP values, as the
// binding asks; timestamps only when milliseconds hold them exactly.
var natives = amqpbinding.Natives{Bool: true, Int: true, Binary: true, TimeResolution: 1e6}

// Decode reads an AMQP 1.0 message as a CloudEvent; see amqpbinding.Decode
// for the kinds and errors.
func Decode(m *amqp.Message) (*ce.Event, amqpbinding.Kind, error) {
	body, err := Body(m)
	ct := contentType(m)
	if err != nil {
		if k := amqpbinding.Detect(ct, m.ApplicationProperties); k != amqpbinding.NotCloudEvent {
			return nil, k, err
		}
		return nil, amqpbinding.NotCloudEvent, err
	}
	return amqpbinding.Decode(ct, m.ApplicationProperties, body)
}

// Body returns a message's bytes: its data sections joined, or an
// amqp-value that is a string or binary (what many clients send).
func Body(m *amqp.Message) ([]byte, error) {
	switch {
	case len(m.Data) == 1:
		return m.Data[0], nil
	case len(m.Data) > 1:
		return bytes.Join(m.Data, nil), nil
	case m.Value != nil:
		switch v := m.Value.(type) {
		case string:
			return []byte(v), nil
		case []byte:
			return v, nil
		}
		var ve ebevent.ValidationError
		ve.Add("data", "the body is an AMQP value of type %T; the binding carries data in data sections", m.Value)
		return nil, ve.Err()
	case len(m.Sequence) > 0:
		var ve ebevent.ValidationError
		ve.Add("data", "the body is an AMQP sequence; the binding carries data in data sections")
		return nil, ve.Err()
	}
	return nil, nil
}

func contentType(m *amqp.Message) string {
	if m.Properties != nil && m.Properties.ContentType != nil {
		return *m.Properties.ContentType
	}
	return ""
}

// Encode writes e as a message in mode binary or structured.
func Encode(e *ce.Event, mode, prefix string, durable bool) (*amqp.Message, error) {
	id := e.ID()
	m := &amqp.Message{Header: &amqp.MessageHeader{Durable: durable}, Properties: &amqp.MessageProperties{MessageID: id}}
	if mode == "structured" {
		b, err := ebevent.EncodeJSON(e)
		if err != nil {
			return nil, fmt.Errorf("encode: %w", err)
		}
		ct := amqpbinding.MediaStructured + "; charset=utf-8"
		m.Properties.ContentType = &ct
		m.Data = [][]byte{b}
		return m, nil
	}
	m.ApplicationProperties = amqpbinding.Properties(e, prefix, natives)
	if ct := amqpbinding.ContentType(e); ct != "" {
		m.Properties.ContentType = &ct
	}
	// One data section, empty when the event has no data: a message
	// needs a body.
	m.Data = [][]byte{e.Data()}
	if m.Data[0] == nil {
		m.Data[0] = []byte{}
	}
	return m, nil
}
