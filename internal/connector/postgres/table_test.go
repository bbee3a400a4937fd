package postgres

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"

	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
)

// An event survives toRow and toEvent exactly, nanoseconds of its time
// included (the time column holds microseconds; attributes the rest).
func TestRowRoundTrip(t *testing.T) {
	e := ce.New()
	e.SetID("1")
	e.SetSource("/s")
	e.SetType("t")
	e.SetSubject("sub")
	e.SetTime(time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC))
	e.SetExtension("intext", 42)
	e.SetExtension("boolext", true)
	e.SetExtension("strext", "x y")
	ebevent.SetData(&e, "application/json", []byte(`{"a":1}`))
	r, err := toRow(&e)
	if err != nil {
		t.Fatal(err)
	}
	r.Time = ptr(r.Time.Truncate(time.Microsecond)) // what the column gives back
	back, err := r.toEvent()
	if err != nil {
		t.Fatal(err)
	}
	wa, ga := ebevent.BinaryAttributes(&e), ebevent.BinaryAttributes(back)
	wb, _ := json.Marshal(wa)
	gb, _ := json.Marshal(ga)
	if string(wb) != string(gb) || string(back.Data()) != `{"a":1}` || back.DataContentType() != "application/json" {
		t.Fatalf("\nsent %s\n got %s %s", wb, gb, back.Data())
	}
}

// A row an application wrote with the columns only is an event.
func TestRowFromColumns(t *testing.T) {
	tm := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	r := row{ID: ptr("42"), Source: ptr("/shop"), Type: ptr("order.created"), Time: &tm, DataContentType: ptr("text/plain"), Data: []byte("hi"), Attributes: []byte(`{"region":"eu","count":3}`)}
	e, err := r.toEvent()
	if err != nil {
		t.Fatal(err)
	}
	if e.SpecVersion() != "1.0" || e.ID() != "42" || !e.Time().Equal(tm) || string(e.Data()) != "hi" || e.Extensions()["region"] != "eu" || e.Extensions()["count"] != "3" {
		t.Fatalf("%s", e)
	}
}

func TestInvalidRows(t *testing.T) {
	for name, r := range map[string]row{
		"no id":             {Source: ptr("/s"), Type: ptr("t")},
		"attributes array":  {ID: ptr("1"), Source: ptr("/s"), Type: ptr("t"), Attributes: []byte(`[1]`)},
		"object attribute":  {ID: ptr("1"), Source: ptr("/s"), Type: ptr("t"), Attributes: []byte(`{"x":{"a":1}}`)},
		"fraction":          {ID: ptr("1"), Source: ptr("/s"), Type: ptr("t"), Attributes: []byte(`{"x":1.5}`)},
		"bad extension":     {ID: ptr("1"), Source: ptr("/s"), Type: ptr("t"), Attributes: []byte(`{"Bad-Name":"x"}`)},
		"bad content type":  {ID: ptr("1"), Source: ptr("/s"), Type: ptr("t"), DataContentType: ptr("no type")},
		"bad specversion":   {ID: ptr("1"), Source: ptr("/s"), Type: ptr("t"), Attributes: []byte(`{"specversion":"2"}`)},
		"empty type column": {ID: ptr("1"), Source: ptr("/s"), Type: ptr("")},
	} {
		if e, err := r.toEvent(); err == nil {
			t.Errorf("%s: got %s", name, e)
		}
	}
}

func TestDecodePayload(t *testing.T) {
	for _, p := range []string{`plain`, `[1]`, `{"a":1}`} {
		if _, err := decodePayload(p); !errors.Is(err, errNotCloudEvent) {
			t.Errorf("%s: %v", p, err)
		}
	}
	if _, err := decodePayload(`{"specversion":"1.0","id":""}`); err == nil || errors.Is(err, errNotCloudEvent) {
		t.Errorf("invalid event: %v", err)
	}
}

// FuzzRow: any attributes JSON and columns decode to a valid event or an
// error; a decoded event survives toRow and toEvent.
func FuzzRow(f *testing.F) {
	f.Add("1", "/s", "t", `{"ext":"v","n":1}`, "application/json", []byte(`{"a":1}`))
	f.Add("", "", "", `{"specversion":"1.0","id":"x","source":"urn:a","type":"t","time":"2020-01-01T00:00:00.123456789Z"}`, "", []byte("\xff"))
	f.Fuzz(func(t *testing.T, id, source, typ, attrs, ct string, data []byte) {
		r := row{Attributes: []byte(attrs), Data: data}
		for _, c := range []struct {
			p **string
			v string
		}{{&r.ID, id}, {&r.Source, source}, {&r.Type, typ}, {&r.DataContentType, ct}} {
			if c.v != "" {
				*c.p = ptr(c.v)
			}
		}
		e, err := r.toEvent()
		if err != nil {
			return
		}
		if err := ebevent.Validate(e); err != nil {
			t.Fatalf("invalid event: %v", err)
		}
		back, err := toRow(e)
		if err != nil {
			t.Fatal(err)
		}
		again, err := back.toEvent()
		if err != nil {
			t.Fatalf("round trip: %v\n%s", err, e)
		}
		if again.ID() != e.ID() || again.Source() != e.Source() || string(again.Data()) != string(e.Data()) {
			t.Fatalf("round trip changed %s to %s", e, again)
		}
	})
}

// FuzzPayload: any notification payload.
func FuzzPayload(f *testing.F) {
	f.Add(`{"specversion":"1.0","id":"1","source":"/s","type":"t","data":{"x":1}}`)
	f.Add(`not json`)
	f.Fuzz(func(t *testing.T, p string) {
		e, err := decodePayload(p)
		if err != nil {
			return
		}
		if err := ebevent.Validate(e); err != nil {
			t.Fatalf("invalid event: %v", err)
		}
	})
}
