// Package postgres is the PostgreSQL connector: a source that reads
// CloudEvents from an outbox table (SELECT … FOR UPDATE SKIP LOCKED; rows
// deleted or marked done only after the events are stored) or from
// LISTEN/NOTIFY, and a target that INSERTs events into a table, idempotent
// on (source, id), or sends them with NOTIFY.
//
// The events table has one row per event: id, source, type, time,
// subject, datacontenttype and data (bytea) columns, and attributes
// (jsonb), which holds every context attribute in the JSON event format's
// types, extensions included. Columns take the value of an attribute that
// attributes does not hold, so an outbox written by an application needs
// only the columns.
package postgres

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"

	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
)

// createTable is the DDL of the events table (create_table: true). seq
// orders the outbox; (source, id) makes inserts idempotent.
func createTable(table string) string {
	return fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s (
  seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  id text NOT NULL,
  source text NOT NULL,
  type text NOT NULL,
  time timestamptz,
  subject text,
  attributes jsonb NOT NULL DEFAULT '{}',
  data bytea,
  datacontenttype text,
  PRIMARY KEY (source, id)
)`, ident(table))
}

// createDeadLetter is the DDL of a dead-letter table.
func createDeadLetter(table string) string {
	return fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  received_at timestamptz NOT NULL DEFAULT now(),
  connector text NOT NULL,
  error text NOT NULL,
  origin text,
  payload jsonb
)`, ident(table))
}

// row is an event as the table holds it.
type row struct {
	ID, Source, Type, Subject, DataContentType *string
	Time                                       *time.Time
	Attributes                                 []byte // JSON object
	Data                                       []byte
}

// toRow maps e onto the columns.
func toRow(e *ce.Event) (row, error) {
	attrs := ebevent.FormAttributes(e)
	b, err := json.Marshal(attrs)
	if err != nil {
		return row{}, err
	}
	r := row{ID: ptr(e.ID()), Source: ptr(e.Source()), Type: ptr(e.Type()), Attributes: b, Data: e.Data()}
	if t := e.Time(); !t.IsZero() {
		r.Time = &t
	}
	if s := e.Subject(); s != "" {
		r.Subject = &s
	}
	if ct := e.DataContentType(); ct != "" {
		r.DataContentType = &ct
	}
	if len(r.Data) == 0 {
		r.Data = nil
	}
	return r, nil
}

// toEvent reads the event of a row: attributes first, the columns for what
// attributes lacks. It returns a validation error naming bad attributes.
func (r *row) toEvent() (*ce.Event, error) {
	var ve ebevent.ValidationError
	attrs := map[string]string{}
	if len(r.Attributes) > 0 && string(r.Attributes) != "null" {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(r.Attributes, &m); err != nil {
			return nil, fmt.Errorf("attributes: not a JSON object: %w", err)
		}
		for k, raw := range m {
			v, err := canonical(raw)
			if err != nil {
				ve.Add(k, "attributes.%s: %v", k, err)
				continue
			}
			if v != nil {
				attrs[k] = *v
			}
		}
	}
	fill := func(name string, v *string) {
		if _, ok := attrs[name]; !ok && v != nil {
			attrs[name] = *v
		}
	}
	fill("id", r.ID)
	fill("source", r.Source)
	fill("type", r.Type)
	fill("subject", r.Subject)
	if _, ok := attrs["time"]; !ok && r.Time != nil {
		attrs["time"] = r.Time.UTC().Format(time.RFC3339Nano)
	}
	if _, ok := attrs["specversion"]; !ok {
		attrs["specversion"] = ce.CloudEventsVersionV1
	}
	fill("datacontenttype", r.DataContentType)
	ct := attrs["datacontenttype"]
	delete(attrs, "datacontenttype")
	delete(attrs, "data")
	delete(attrs, "data_base64")
	if err := ve.Err(); err != nil {
		return nil, err
	}
	return ebevent.FromBinary(attrs, ct, r.Data)
}

// canonical gives a JSON attribute value its canonical string: strings as
// they are, integers and booleans in their canonical form, null as
// absent. Objects, arrays and fractions are no attribute values.
func canonical(raw json.RawMessage) (*string, error) {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return nil, nil
	case raw[0] == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		return &s, nil
	case string(raw) == "true" || string(raw) == "false":
		s := string(raw)
		return &s, nil
	}
	n, err := strconv.ParseInt(string(raw), 10, 32)
	if err != nil {
		return nil, fmt.Errorf("must be a string, a 32-bit integer or a boolean")
	}
	s := strconv.FormatInt(n, 10)
	return &s, nil
}

func ptr[T any](v T) *T { return &v }
