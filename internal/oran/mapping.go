package oran

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/google/uuid"
)

// Event is a cloud native event (sdk-go pkg/event Event): the body of
// POST /create/event and POST /log.
type Event struct {
	ID              string          `json:"id"`
	Type            string          `json:"type"`
	Source          string          `json:"source,omitempty"`
	DataContentType string          `json:"dataContentType,omitempty"`
	Time            string          `json:"time,omitempty"`
	DataSchema      json.RawMessage `json:"dataSchema,omitempty"`
	Data            *Data           `json:"data,omitempty"`
}

// Data is an event's data: a version and values.
type Data struct {
	Version string  `json:"version,omitempty"`
	Values  []Value `json:"values"`
}

// Value is one value of an event's data. On input both key sets are
// accepted (v1 resource, dataType, valueType; v2 ResourceAddress,
// data_type, value_type); MarshalJSON writes the keys of Version.
type Value struct {
	Version   string `json:"-"`
	Resource  string
	DataType  string
	ValueType string
	Value     any
}

// UnmarshalJSON accepts both key sets.
func (v *Value) UnmarshalJSON(b []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	if m == nil {
		return fmt.Errorf("a value must be a JSON object")
	}
	str := func(dst *string, keys ...string) error {
		for _, k := range keys {
			if raw, ok := m[k]; ok && string(raw) != "null" {
				if err := json.Unmarshal(raw, dst); err != nil {
					return fmt.Errorf("%s must be a string", k)
				}
				return nil
			}
		}
		return nil
	}
	if err := str(&v.Resource, "ResourceAddress", "resource"); err != nil {
		return err
	}
	if err := str(&v.DataType, "data_type", "dataType"); err != nil {
		return err
	}
	if err := str(&v.ValueType, "value_type", "valueType"); err != nil {
		return err
	}
	if raw, ok := m["value"]; ok {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&v.Value); err != nil {
			return err
		}
	}
	return nil
}

// MarshalJSON writes the keys of v's version (V1: resource, dataType,
// valueType; otherwise ResourceAddress, data_type, value_type).
func (v Value) MarshalJSON() ([]byte, error) {
	if v.Version == V1 {
		return json.Marshal(struct {
			Resource  string `json:"resource"`
			DataType  string `json:"dataType"`
			ValueType string `json:"valueType"`
			Value     any    `json:"value"`
		}{v.Resource, v.DataType, v.ValueType, v.Value})
	}
	return json.Marshal(struct {
		Resource  string `json:"ResourceAddress"`
		DataType  string `json:"data_type"`
		ValueType string `json:"value_type"`
		Value     any    `json:"value"`
	}{v.Resource, v.DataType, v.ValueType, v.Value})
}

// withVersion sets the version of every value (the keys they are written
// with).
func (d *Data) withVersion(version string) *Data {
	if d == nil {
		return nil
	}
	cp := *d
	cp.Values = make([]Value, len(d.Values))
	for i, v := range d.Values {
		v.Version = version
		cp.Values[i] = v
	}
	return &cp
}

// Validate checks what the mapping needs.
func (e *Event) Validate() error {
	switch {
	case e.ID == "":
		return fmt.Errorf("id is required")
	case e.Type == "":
		return fmt.Errorf("type is required")
	}
	if e.Time != "" {
		if _, err := time.Parse(time.RFC3339Nano, e.Time); err != nil {
			return fmt.Errorf("time must be RFC 3339: %v", err)
		}
	}
	for i, v := range valuesOf(e.Data) {
		switch v.DataType {
		case "", "notification", "metric":
		default:
			return fmt.Errorf("data.values[%d]: data type must be notification or metric, not %q", i, v.DataType)
		}
	}
	return nil
}

func valuesOf(d *Data) []Value {
	if d == nil {
		return nil
	}
	return d.Values
}

// ToCloudEvent maps a cloud native event published by pub to the
// CloudEvent the bridge routes (sdk-go pkg/event event_ce.go): a new id,
// the type and time copied, data the data object. V1 (NewCloudEvent):
// source is the publisher's resource address and subject the event's
// source. V2 (NewCloudEventV2): source is the event's source (the
// publisher's resource when the event has none). The bus keeps CloudEvents
// 1.0; v1's specversion 0.3 is a matter of the wire format only.
func ToCloudEvent(e *Event, pub *PubSub, version string) (*ce.Event, error) {
	ev := ce.New(ce.CloudEventsVersionV1)
	ev.SetID(uuid.NewString())
	ev.SetType(e.Type)
	switch {
	case version == V1:
		ev.SetSource(pub.Resource)
		if e.Source != "" {
			ev.SetSubject(e.Source)
		}
	case e.Source != "":
		ev.SetSource(e.Source)
	default:
		ev.SetSource(pub.Resource)
	}
	t := time.Now().UTC()
	if e.Time != "" {
		if pt, err := time.Parse(time.RFC3339Nano, e.Time); err == nil {
			t = pt
		}
	}
	ev.SetTime(t)
	if e.Data != nil {
		if err := ev.SetData("application/json", e.Data.withVersion(version)); err != nil {
			return nil, err
		}
	}
	if err := ev.Validate(); err != nil {
		return nil, err
	}
	return &ev, nil
}

// FromCloudEvent maps a CloudEvent back to a cloud native event
// (GetCloudNativeEvents): source is the CloudEvent's subject if set, else
// its source; id, type and time are copied; data is read as the data
// object (either key set) and written with version's keys.
func FromCloudEvent(ev *ce.Event, version string) (*Event, error) {
	out := &Event{ID: ev.ID(), Type: ev.Type(), Source: ev.Source(), DataContentType: "application/json"}
	if s := ev.Subject(); s != "" {
		out.Source = s
	}
	if !ev.Time().IsZero() {
		out.Time = ev.Time().UTC().Format(time.RFC3339Nano)
	}
	d, err := dataOf(ev)
	if err != nil {
		return nil, err
	}
	out.Data = d.withVersion(version)
	return out, nil
}

// dataOf reads an event's data as the data object.
func dataOf(ev *ce.Event) (*Data, error) {
	raw := ev.Data()
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, fmt.Errorf("the event has no data")
	}
	var d Data
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, fmt.Errorf("the event's data is not an O-RAN data object: %v", err)
	}
	return &d, nil
}

// Notification is the v2 JSON of an event (CurrentState answers, initial
// notifications; docs EventData): specversion 1.0, id, source, type,
// time, data. id, when not empty, replaces the event's.
func Notification(ev *ce.Event, id string) ([]byte, error) {
	raw := bytes.TrimSpace(ev.Data())
	if len(raw) == 0 {
		return nil, fmt.Errorf("the event has no data")
	}
	if !json.Valid(raw) {
		return nil, fmt.Errorf("the event's data is not JSON")
	}
	var data json.RawMessage = raw
	// An O-RAN data object is shown with the v2 keys; other JSON as is.
	if d, err := dataOf(ev); err == nil && d.Values != nil {
		for _, v := range d.Values {
			if strings.HasSuffix(v.Resource, "event not found") || strings.HasSuffix(v.Resource, "PTP not set") {
				return nil, fmt.Errorf("no state: %s", v.Resource)
			}
		}
		b, err := json.Marshal(d.withVersion(V2))
		if err != nil {
			return nil, err
		}
		data = b
	}
	if id == "" {
		id = ev.ID()
	}
	out := struct {
		SpecVersion string          `json:"specversion"`
		ID          string          `json:"id"`
		Source      string          `json:"source"`
		Type        string          `json:"type"`
		Time        string          `json:"time,omitempty"`
		Data        json.RawMessage `json:"data"`
	}{"1.0", id, ev.Source(), ev.Type(), "", data}
	if !ev.Time().IsZero() {
		out.Time = ev.Time().UTC().Format(time.RFC3339Nano)
	}
	return json.Marshal(out)
}
