package redis

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	ce "github.com/cloudevents/sdk-go/v2/event"

	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
)

func fields(kv []any) map[string]any {
	m := map[string]any{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

// The binary entry layout: one field per attribute with its canonical
// string, datacontenttype, and data.
func TestEntryLayout(t *testing.T) {
	e := ce.New()
	e.SetID("1234-1234-1234")
	e.SetSource("/mycontext/subcontext")
	e.SetType("com.example.someevent")
	e.SetExtension("intext", 5)
	ebevent.SetData(&e, "application/avro", []byte{0, 1, 2})
	kv, err := encodeEntry(&e, ModeBinary)
	if err != nil {
		t.Fatal(err)
	}
	want := []any{"specversion", "1.0", "id", "1234-1234-1234", "source", "/mycontext/subcontext", "type", "com.example.someevent", "intext", "5", "datacontenttype", "application/avro", "data", "\x00\x01\x02"}
	if !reflect.DeepEqual(kv, want) {
		t.Fatalf("fields\n got %q\nwant %q", kv, want)
	}
	back, err := decodeEntry(fields(kv))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back.Data(), []byte{0, 1, 2}) || back.DataContentType() != "application/avro" || back.Extensions()["intext"] != "5" {
		t.Fatalf("back %s", back)
	}
	skv, _ := encodeEntry(&e, ModeStructured)
	if len(skv) != 2 || skv[0] != "event" {
		t.Fatalf("structured %q", skv)
	}
	if again, err := decodeEntry(fields(skv)); err != nil || again.ID() != e.ID() {
		t.Fatalf("%v %v", again, err)
	}
}

// Entries and messages without a CloudEvent are errNotCloudEvent (which a
// source may wrap); broken ones are other errors.
func TestNotCloudEvents(t *testing.T) {
	for name, f := range map[string]map[string]any{
		"no marker": {"temperature": "21"},
		"data only": {"data": "x"},
	} {
		if _, err := decodeEntry(f); !errors.Is(err, errNotCloudEvent) {
			t.Errorf("%s: %v", name, err)
		}
	}
	for name, f := range map[string]map[string]any{
		"no id":            {"specversion": "1.0", "source": "/s", "type": "t"},
		"bad json":         {"event": "{"},
		"not utf-8":        {"specversion": "1.0", "id": "\xff", "source": "/s", "type": "t"},
		"bad content type": {"specversion": "1.0", "id": "1", "source": "/s", "type": "t", "datacontenttype": "not a type"},
	} {
		if _, err := decodeEntry(f); err == nil || errors.Is(err, errNotCloudEvent) {
			t.Errorf("%s: %v", name, err)
		}
	}
	for _, p := range []string{`plain`, `[1]`, `{"a":1}`, `"s"`} {
		if _, err := decodeMessage([]byte(p)); !errors.Is(err, errNotCloudEvent) {
			t.Errorf("%s: %v", p, err)
		}
	}
	if _, err := decodeMessage([]byte(`{"specversion":"1.0","id":""}`)); err == nil || errors.Is(err, errNotCloudEvent) {
		t.Errorf("invalid event: %v", err)
	}
}

// FuzzDecodeEntry: any fields (as a JSON object of strings) must decode
// to a valid event or an error, and a decoded event survives both modes.
func FuzzDecodeEntry(f *testing.F) {
	f.Add(`{"specversion":"1.0","id":"1","source":"/s","type":"t","data":"{\"a\":1}"}`)
	f.Add(`{"event":"{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"/s\",\"type\":\"t\"}"}`)
	f.Add(`{"specversion":"0.3","id":"1","source":"/s","type":"t","datacontenttype":"text/plain","data":"\u00ff"}`)
	f.Fuzz(func(t *testing.T, obj string) {
		var m map[string]string
		if json.Unmarshal([]byte(obj), &m) != nil {
			return
		}
		in := map[string]any{}
		for k, v := range m {
			in[k] = v
		}
		e, err := decodeEntry(in)
		if err != nil {
			return
		}
		if err := ebevent.Validate(e); err != nil {
			t.Fatalf("decoded an invalid event: %v", err)
		}
		for _, mode := range []Mode{ModeBinary, ModeStructured} {
			kv, err := encodeEntry(e, mode)
			if err != nil {
				t.Fatal(err)
			}
			again, err := decodeEntry(fields(kv))
			if err != nil {
				t.Fatalf("%s round trip: %v", mode, err)
			}
			if again.ID() != e.ID() || again.Type() != e.Type() || again.Source() != e.Source() {
				t.Fatalf("%s round trip changed %s to %s", mode, e, again)
			}
		}
	})
}

// FuzzDecodeMessage: any pub/sub payload.
func FuzzDecodeMessage(f *testing.F) {
	f.Add([]byte(`{"specversion":"1.0","id":"1","source":"/s","type":"t","data":{"x":1}}`))
	f.Add([]byte(`{"specversion":"1.0","id":"1","source":"/s","type":"t","data_base64":"AAE="}`))
	f.Add([]byte(`not json`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		e, err := decodeMessage(payload)
		if err != nil {
			return
		}
		if err := ebevent.Validate(e); err != nil {
			t.Fatalf("decoded an invalid event: %v", err)
		}
		b, err := ebevent.EncodeJSON(e)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := decodeMessage(b); err != nil {
			t.Fatalf("round trip: %v\n%s", err, b)
		}
	})
}
