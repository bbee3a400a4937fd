package http

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"

	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
)

// normalEvent is a JSON-format event reduced to what must survive
// ingestion, so that equivalent encodings compare equal:
//   - a null member is an absent one (JSON format §2.4);
//   - data_base64, 0.3's datacontentencoding=base64, and data are all data:
//     its bytes, or its compact JSON text when the content type is JSON
//     (absent means JSON);
//   - time is the same instant (sdk-go keeps the time, not the offset it was
//     written with: "…+02:00" is stored as "…Z");
//   - 0.3's schemaurl is dataschema (ebevent.Form names both so).
type normalEvent struct {
	Attrs   map[string]any
	Data    string
	HasData bool
}

func normalize(raw []byte) (normalEvent, error) {
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		return normalEvent{}, err
	}
	return normalizeMap(m)
}

func normalizeMap(m map[string]any) (normalEvent, error) {
	n := normalEvent{Attrs: map[string]any{}}
	for k, v := range m {
		if v != nil {
			n.Attrs[k] = v
		}
	}
	a := n.Attrs
	if v, ok := a["schemaurl"]; ok {
		a["dataschema"] = v
		delete(a, "schemaurl")
	}
	if v, ok := a["time"].(string); ok {
		ts, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return n, fmt.Errorf("time: %w", err)
		}
		a["time"] = ts.UTC().Format(time.RFC3339Nano)
	}
	ct, _ := a["datacontenttype"].(string)
	var data []byte
	switch {
	case a["data_base64"] != nil:
		b, err := base64.StdEncoding.DecodeString(fmt.Sprint(a["data_base64"]))
		if err != nil {
			return n, fmt.Errorf("data_base64: %w", err)
		}
		data, n.HasData = b, true
	case a["datacontentencoding"] == "base64":
		b, err := base64.StdEncoding.DecodeString(fmt.Sprint(a["data"]))
		if err != nil {
			return n, fmt.Errorf("data: %w", err)
		}
		data, n.HasData = b, true
	case a["data"] != nil:
		if s, ok := a["data"].(string); ok && !ebevent.IsJSONContentType(ct) {
			data = []byte(s)
		} else {
			data, _ = json.Marshal(a["data"])
		}
		n.HasData = true
	}
	delete(a, "data")
	delete(a, "data_base64")
	delete(a, "datacontentencoding")
	if n.HasData && ebevent.IsJSONContentType(ct) {
		var v any
		if err := json.Unmarshal(data, &v); err == nil {
			data, _ = json.Marshal(v)
		}
	}
	n.Data = string(data)
	return n, nil
}

// checkJSONForm checks that the stored event, in the JSON format the bus
// keeps and in ebevent.Form, is the event that was sent.
func checkJSONForm(t *testing.T, sent []byte, e *ce.Event) {
	t.Helper()
	want, err := normalize(sent)
	if err != nil {
		t.Fatalf("fixture: %v", err)
	}
	stored, err := e.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	got, err := normalize(stored)
	if err != nil {
		t.Fatalf("stored form %s: %v", stored, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("stored JSON format differs:\n got %+v\nwant %+v\nstored: %s", got, want, stored)
	}
	// Form's numbers are float64 where the decoder above keeps json.Number;
	// go through JSON to compare like with like.
	fb, err := json.Marshal(ebevent.Form(e))
	if err != nil {
		t.Fatal(err)
	}
	form, err := normalize(fb)
	if err != nil {
		t.Fatalf("form %s: %v", fb, err)
	}
	if !reflect.DeepEqual(form, want) {
		t.Errorf("ebevent.Form differs:\n got %+v\nwant %+v", form, want)
	}
}

// sdkJavaRejects names, per sdk-java file, the attributes a strict decoder
// must reject (SOURCE.md); every other file must be accepted.
var sdkJavaRejects = map[string][]string{
	"fail_numeric_decimal.json":          {"decimal"},
	"fail_numeric_long.json":             {"long"},
	"json_data_with_ext_invalid.json":    {"a_invalid_name"},
	"json_data_with_ext_upper_case.json": {"aBoolean", "aNumber", "aString"},
}

func TestJSONFormatSDKJava(t *testing.T) {
	files := globFixtures(t, "cloudevents-json/sdk-java/*/*.json")
	if len(files) != 31 {
		t.Fatalf("%d sdk-java files, want 31", len(files))
	}
	for _, f := range files {
		name := f[strings.Index(f, "sdk-java/")+len("sdk-java/"):]
		t.Run(name, func(t *testing.T) {
			body := readFixture(t, strings.TrimPrefix(f, "testdata/"))
			src, rec := newTestSource(t, nil)
			w := serve(src, post(string(body), "Content-Type", MediaStructured))
			if fields, bad := sdkJavaRejects[name[strings.IndexByte(name, '/')+1:]]; bad {
				p := readProblem(t, w, 400)
				if got := problemFields(p); !reflect.DeepEqual(got, fields) {
					t.Errorf("errors name %v, want %v; %s", got, fields, w.Body)
				}
				if rec.calls() != 0 {
					t.Error("an invalid event was ingested")
				}
				return
			}
			checkJSONForm(t, body, wantAccepted(t, w, rec, 1)[0])
		})
	}
}

// invalidEventFields names the attributes each case of invalid-events.json
// must be rejected for.
var invalidEventFields = map[string][]string{
	"double specversion": {"specversion"},
	"wrong specversion":  {"specversion"},
	"no specversion":     {"specversion"},
	"wrong time":         {"time"},
	"invalid datacontentencoding with specversion -> datacontentencoding":                         {"datacontentencoding"},
	"invalid datacontentencoding":                                                                 {"datacontentencoding"},
	"JSON object data with non-JSON datacontenttype 'application' (sdk-go rejects; SDK-specific)": {"datacontenttype"},
	"Java SDK: invalid specversion only":                                                          {"id", "source", "specversion", "type"},
}

func TestJSONFormatInvalidEvents(t *testing.T) {
	var cases []struct {
		Name string `json:"name"`
		JSON string `json:"json"`
	}
	if err := json.Unmarshal(readFixture(t, "cloudevents-json/invalid-events.json"), &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) != len(invalidEventFields) {
		t.Fatalf("%d cases, %d expectations", len(cases), len(invalidEventFields))
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			want, ok := invalidEventFields[c.Name]
			if !ok {
				t.Fatal("no expectation for this case")
			}
			for _, mode := range []string{"structured", "batch"} {
				src, rec := newTestSource(t, nil)
				body, ct, prefix := c.JSON, MediaStructured, ""
				if mode == "batch" {
					body, ct, prefix = "["+c.JSON+"]", MediaBatch, "[0]."
				}
				p := readProblem(t, serve(src, post(body, "Content-Type", ct)), 400)
				var wantFields []string
				for _, f := range want {
					wantFields = append(wantFields, prefix+f)
				}
				if got := problemFields(p); !reflect.DeepEqual(got, wantFields) {
					t.Errorf("%s: errors name %v, want %v; detail: %s", mode, got, wantFields, p.Detail)
				}
				if len(rec.events()) != 0 {
					t.Errorf("%s: an invalid event was stored", mode)
				}
			}
		})
	}
}

// Structured mode takes every attribute from the body; ce- headers that
// come along are not attributes (HTTP binding §3.2).
func TestStructuredIgnoresCEHeaders(t *testing.T) {
	src, rec := newTestSource(t, nil)
	w := serve(src, post(structuredEvent("from-body", 1), "Content-Type", MediaStructured, "ce-id", "from-header", "ce-other", "x"))
	e := wantAccepted(t, w, rec, 1)[0]
	if e.ID() != "from-body" {
		t.Errorf("id %q", e.ID())
	}
	if _, ok := e.Extensions()["other"]; ok {
		t.Error("a ce- header became an extension")
	}
}

// A 0.3 event has no data_base64 member (it has datacontentencoding), but
// one that sends it anyway must not break the JSON format the bus keeps.
func TestStructured03WithDataBase64(t *testing.T) {
	src, rec := newTestSource(t, nil)
	body := `{"specversion":"0.3","id":"1","source":"/s","type":"t","data_base64":"AP8="}`
	w := serve(src, post(body, "Content-Type", MediaStructured))
	if w.Code == 400 {
		return // refusing it is fine too
	}
	e := wantAccepted(t, w, rec, 1)[0]
	if string(e.Data()) != "\x00\xff" {
		t.Errorf("data %q", e.Data())
	}
}
