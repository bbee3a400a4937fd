package event

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	ce "github.com/cloudevents/sdk-go/v2/event"
)

func TestDecodeJSONData(t *testing.T) {
	const head = `{"specversion":"1.0","id":"1","source":"/s","type":"t",`
	cases := []struct {
		name, body string
		data       string
		base64     bool
	}{
		{"data_base64 before datacontenttype, spaced", head + `"data_base64" : "eyAieHl6IjogMTIzIH0=" }`, `{ "xyz": 123 }`, true},
		{"data_base64 after datacontenttype", head + `"datacontenttype":"text/plain","data_base64":"aGk="}`, "hi", true},
		{"JSON data kept as sent", head + `"data" : { "a" : [1, 2] } }`, `{ "a" : [1, 2] }`, false},
		{"+json data is JSON", head + `"datacontenttype":"application/vnd.foo+json","data":{"a":1}}`, `{"a":1}`, false},
		{"JSON string data", head + `"data":"just a string"}`, `"just a string"`, false},
		{"JSON null data", head + `"data":null}`, `null`, false},
		{"text data", head + `"datacontenttype":"text/plain","data":"Grüße\n"}`, "Grüße\n", false},
		{"0.3 with data_base64", `{"specversion":"0.3","id":"1","source":"/s","type":"t","data_base64":"AP8="}`, "\x00\xff", true},
		{"0.3 base64", `{"specversion":"0.3","id":"1","source":"/s","type":"t","datacontentencoding":"base64","data":"e30="}`, "{}", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, err := DecodeJSON([]byte(c.body))
			if err != nil {
				t.Fatal(err)
			}
			if string(e.Data()) != c.data || e.DataBase64 != c.base64 {
				t.Errorf("data %q base64 %v, want %q %v", e.Data(), e.DataBase64, c.data, c.base64)
			}
			// The bus keeps the event in sdk-go's JSON format (bus.EncodeEvent,
			// bus.DecodeEvent); data must survive it.
			b, err := e.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			back := ce.New()
			if err := back.UnmarshalJSON(b); err != nil {
				t.Fatalf("%s: %v", b, err)
			}
			if string(back.Data()) != c.data {
				t.Errorf("after the JSON format %s: data %q", b, back.Data())
			}
		})
	}
}

func TestDecodeJSONDataErrors(t *testing.T) {
	const head = `{"specversion":"1.0","id":"1","source":"/s","type":"t",`
	for body, want := range map[string][]string{
		head + `"datacontenttype":"text/plain","data":{"a":1}}`:                                             {"data"},
		head + `"datacontenttype":"application","data":{"a":1}}`:                                            {"datacontenttype"},
		head + `"datacontenttype":"","data":"x"}`:                                                           {"datacontenttype"},
		head + `"data":"x","data_base64":"eA=="}`:                                                           {"data_base64"},
		`{"specversion":"0.3","id":"1","source":"/s","type":"t","datacontentencoding":"base54"}`:            {"datacontentencoding"},
		`{"specversion":"0.3","id":"1","source":"/s","type":"t","datacontentencoding":"base64","data":"!"}`: {"data"},
		head + "\"subject\":\"caf\xe9\"}":                                                                   {""},
	} {
		_, err := DecodeJSON([]byte(body))
		var got []string
		for _, f := range Fields(err) {
			got = append(got, f.Field)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: fields %q, want %q (%v)", body, got, want, err)
		}
	}
}

func TestEncodeJSONPlusJSONData(t *testing.T) {
	e := ce.New()
	e.SetID("1")
	e.SetSource("/s")
	e.SetType("t")
	e.SetDataContentType("application/vnd.foo+json; v=2")
	e.DataEncoded = []byte(`{"a":[1,2]}`)
	b, err := EncodeJSON(&e)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if _, ok := m["data"].(map[string]any); !ok {
		t.Errorf("data is %T in %s, want the JSON object", m["data"], b)
	}
	back, err := DecodeJSON(b)
	if err != nil {
		t.Fatal(err)
	}
	if string(back.Data()) != `{"a":[1,2]}` || back.ID() != "1" || back.DataContentType() != e.DataContentType() {
		t.Errorf("decoded back: %s", back)
	}
	// Where sdk-go is right already, the output is sdk-go's.
	e.SetDataContentType("application/json")
	want, _ := e.MarshalJSON()
	if got, _ := EncodeJSON(&e); string(got) != string(want) {
		t.Errorf("EncodeJSON %s, MarshalJSON %s", got, want)
	}
}

func TestDecodeJSONDuplicateMembers(t *testing.T) {
	for body, want := range map[string][]string{
		`{"specversion":"1.0","id":"1","source":"/s","type":"t","id":"2"}`:                  {"id"},
		`{"specversion":"1.0","specversion":"1.0.1","id":"1","source":"/s","type":"t"}`:     {"specversion"},
		`{"specversion":"1.0","id":"1","source":"/s","type":"t","i\u0064":"2","x":1,"x":2}`: {"id", "x"},
		`{"specversion":"1.0","id":"1","source":"/s","type":"t","data":{"a":1,"a":2}}`:      nil, // data is not ours to judge
	} {
		_, err := DecodeJSON([]byte(body))
		var got []string
		for _, f := range Fields(err) {
			got = append(got, f.Field)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: fields %q, want %q", body, got, want)
		}
	}
}

// TestDecodeJSONBatchStopsAtManyBadEntries: a long batch of bad entries
// is refused after maxBadEntries of them, in entry order, saying how many
// were not checked.
func TestDecodeJSONBatchStopsAtManyBadEntries(t *testing.T) {
	body := "[" + strings.Repeat("{},", 4999) + "{}]"
	_, err := DecodeJSONBatch([]byte(body))
	fields := Fields(err)
	if len(fields) != 4*maxBadEntries+1 {
		t.Fatalf("%d fields, want %d", len(fields), 4*maxBadEntries+1)
	}
	if fields[0].Field != "[0].id" || fields[4].Field != "[1].id" {
		t.Errorf("fields out of entry order: %v, %v", fields[0], fields[4])
	}
	if last := fields[len(fields)-1]; last.Field != "" || !strings.HasPrefix(last.Reason, "the entries after [999] were not checked") {
		t.Errorf("last field %v", last)
	}
	// Entries that are not objects: the scan itself stops.
	_, err = DecodeJSONBatch([]byte("[" + strings.Repeat("1,", 4999) + "1]"))
	fields = Fields(err)
	if len(fields) != maxBadEntries+1 || fields[0].Field != "[0]" || fields[0].Reason != "not a JSON object" {
		t.Fatalf("%d fields, first %v", len(fields), fields[0])
	}
	// Exactly maxBadEntries bad entries: all checked, nothing more said.
	_, err = DecodeJSONBatch([]byte("[" + strings.Repeat("1,", maxBadEntries-1) + "1]"))
	if n := len(Fields(err)); n != maxBadEntries {
		t.Errorf("%d fields for %d bad entries", n, maxBadEntries)
	}
}
