package mqtt

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/eventbridge-dev/eventbridge/internal/connector/brokertest"
	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
)

// specExample reads one of the binding spec's PUBLISH illustrations
// (testdata/bindings/spec-examples): the topic, the Content Type, the user
// properties and the payload, skipping "..." placeholder lines.
func specExample(t *testing.T, name string) Message {
	t.Helper()
	var m Message
	m.Payload = brokertest.SpecExample(t, name, func(section, line string) {
		k, v, _ := strings.Cut(line, ":")
		switch {
		case section == "PUBLISH" && k == "Topic Name":
			m.Topic = strings.TrimSpace(v)
		case section == "PUBLISH" && k == "Content Type":
			m.ContentType = strings.TrimSpace(v)
		case section == "User Properties":
			m.Properties = append(m.Properties, Property{Key: k, Value: strings.TrimSpace(v)})
		}
	})
	return m
}

// The binary example of MQTT 5: attributes are user properties named as
// they are, datacontenttype is the Content Type.
func TestSpecExampleBinary(t *testing.T) {
	m := specExample(t, "mqtt-protocol-binding_01.txt")
	if m.Topic != "mytopic" || len(m.Properties) != 6 {
		t.Fatalf("example read wrong: %+v", m)
	}
	m.Payload = []byte(`{"temperature": 21.5}`) // the example's data is a placeholder
	e, err := Decode(&m, true)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"specversion": "1.0", "type": "com.example.someevent", "time": "2018-04-05T03:56:24Z",
		"id": "1234-1234-1234", "source": "/mycontext/subcontext"}
	got := ebevent.BinaryAttributes(e)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if e.DataContentType() != "application/json; charset=utf-8" {
		t.Errorf("datacontenttype %q", e.DataContentType())
	}
	// Encoding it again gives the example's properties back, but for
	// datacontenttype, which the target carries in Content Type only.
	out, err := Encode(e, ModeBinary)
	if err != nil {
		t.Fatal(err)
	}
	if out.ContentType != m.ContentType {
		t.Errorf("content type %q, want %q", out.ContentType, m.ContentType)
	}
	wantProps := map[string]string{}
	for _, p := range m.Properties {
		if p.Key != "datacontenttype" {
			wantProps[p.Key] = p.Value
		}
	}
	gotProps := map[string]string{}
	for _, p := range out.Properties {
		gotProps[p.Key] = p.Value
	}
	if a, b := mustJSON(wantProps), mustJSON(gotProps); a != b {
		t.Errorf("user properties\n got %s\nwant %s", b, a)
	}
	if out.Properties[0].Key != "specversion" {
		t.Errorf("specversion should come first: %v", out.Properties)
	}
}

// The structured examples (MQTT 5 with its Content Type, 3.1.1 without)
// carry the JSON event format. Their JSON is abbreviated (unquoted
// values): as it is, the v5 one is an invalid CloudEvent (its content
// type says it is one), the 3.1.1 one not a CloudEvent at all; with the
// values quoted both decode.
func TestSpecExamplesStructured(t *testing.T) {
	fix := regexp.MustCompile(`:\s*([0-9][0-9:;TZ-]+),`)
	for _, c := range []struct {
		file string
		v5   bool
	}{{"mqtt-protocol-binding_03.txt", true}, {"mqtt-protocol-binding_04.txt", false}} {
		t.Run(c.file, func(t *testing.T) {
			m := specExample(t, c.file)
			if c.v5 && m.ContentType != "application/cloudevents+json; charset=utf-8" {
				t.Fatalf("content type %q", m.ContentType)
			}
			_, err := Decode(&m, c.v5)
			if c.v5 && (err == nil || errors.Is(err, errNotCloudEvent)) {
				t.Fatalf("v5 structured with abbreviated JSON: want invalid, got %v", err)
			}
			if !c.v5 && !errors.Is(err, errNotCloudEvent) {
				t.Fatalf("3.1.1 payload that is not JSON: want errNotCloudEvent, got %v", err)
			}
			p := strings.ReplaceAll(string(m.Payload), "2018-04-05T03:56;24Z", "2018-04-05T03:56:24Z")
			p = fix.ReplaceAllString(p, `: "$1",`)
			p = strings.Replace(p, "... application data ...", `"x": 1`, 1)
			m.Payload = []byte(p)
			e, err := Decode(&m, c.v5)
			if err != nil {
				t.Fatalf("%v\n%s", err, p)
			}
			if e.ID() != "1234-1234-1234" || e.Type() != "com.example.someevent" || e.Time().IsZero() {
				t.Fatalf("decoded %v", e)
			}
		})
	}
}

// sdk-go's MQTT wire vectors: mode detection, and its ce- prefixed user
// properties, which the source accepts.
func TestSDKGoVectors(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "bindings", "sdk-go-wire-vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var vectors []struct {
		Binding     string            `json:"binding"`
		Name        string            `json:"name"`
		ContentType *string           `json:"content_type"`
		UserProps   map[string]string `json:"user_properties"`
		Payload     string            `json:"payload"`
		Expect      string            `json:"expect"`
	}
	if err := json.Unmarshal(b, &vectors); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, v := range vectors {
		if v.Binding != "mqtt5" {
			continue
		}
		n++
		t.Run(v.Name, func(t *testing.T) {
			m := Message{Payload: []byte(v.Payload)}
			if v.ContentType != nil {
				m.ContentType = *v.ContentType
			}
			for k, val := range v.UserProps {
				m.Properties = append(m.Properties, Property{Key: k, Value: val})
			}
			e, err := Decode(&m, true)
			switch {
			case strings.HasPrefix(v.Expect, "not structured"):
				if !errors.Is(err, errNotCloudEvent) {
					t.Fatalf("want not a CloudEvent, got %v, %v", e, err)
				}
			case v.Expect == "structured":
				// Structured by its content type; the empty payload is then
				// an invalid event, not "not a CloudEvent".
				if err == nil || errors.Is(err, errNotCloudEvent) {
					t.Fatalf("want an invalid structured event, got %v, %v", e, err)
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				if e.ID() != "ABC-123" || e.Type() != "binary.test" || e.Source() != "test-source" {
					t.Fatalf("got %v", e)
				}
			}
		})
	}
	if n != 3 {
		t.Fatalf("%d mqtt5 vectors, want 3", n)
	}
}

// Both modes give back the event they were given, every attribute type
// included.
func TestEncodeDecode(t *testing.T) {
	for _, mode := range []Mode{ModeBinary, ModeStructured} {
		t.Run(string(mode), func(t *testing.T) {
			want := connectortest.Sample("s-1")
			m, err := Encode(want, mode)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Decode(m, true)
			if err != nil {
				t.Fatal(err)
			}
			connectortest.SameEvent(t, want, got)
			if mode == ModeStructured {
				got, err := Decode(&Message{Payload: m.Payload}, false)
				if err != nil {
					t.Fatal(err)
				}
				connectortest.SameEvent(t, want, got)
			}
		})
	}
}

// Binary-mode edge cases: properties that are not attribute names are
// not CloudEvents metadata; the same attribute twice with two values is
// refused; no specversion means not a CloudEvent.
func TestBinaryProperties(t *testing.T) {
	base := []Property{{"specversion", "1.0"}, {"id", "1"}, {"source", "/s"}, {"type", "t"}}
	m := Message{Properties: append(base, Property{"X-Trace", "abc"}, Property{"traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"})}
	e, err := Decode(&m, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := e.Extensions()["traceparent"]; !ok || len(e.Extensions()) != 1 {
		t.Fatalf("extensions %v", e.Extensions())
	}
	m = Message{Properties: append(base, Property{"id", "2"})}
	if _, err := Decode(&m, true); err == nil || errors.Is(err, errNotCloudEvent) {
		t.Fatalf("two ids: want invalid, got %v", err)
	}
	m = Message{Properties: append(base, Property{"ce-id", "1"})}
	if _, err := Decode(&m, true); err != nil {
		t.Fatalf("id and ce-id with one value: %v", err)
	}
	m = Message{Properties: base[1:], Payload: []byte("hello")}
	if _, err := Decode(&m, true); !errors.Is(err, errNotCloudEvent) {
		t.Fatalf("no specversion: want not a CloudEvent, got %v", err)
	}
	m = Message{ContentType: "application/cloudevents+avro", Payload: []byte("x")}
	if _, err := Decode(&m, true); err == nil || errors.Is(err, errNotCloudEvent) {
		t.Fatalf("avro: want invalid, got %v", err)
	}
	// Without user properties or content type, a JSON event payload is
	// read as structured, as 3.1.1 publishers send it.
	sample, _ := ebevent.EncodeJSON(connectortest.Sample("s-2"))
	if e, err := Decode(&Message{Payload: sample}, true); err != nil || e.ID() != "s-2" {
		t.Fatalf("structured without content type: %v %v", e, err)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
