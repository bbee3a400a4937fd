package kafka

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/twmb/franz-go/pkg/kgo"

	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
)

// specExample reads one of the binding spec's message layouts: its key,
// headers (the spec quotes some values) and value, with the "..."
// placeholder lines left out.
func specExample(t *testing.T, name string) *kgo.Record {
	t.Helper()
	b, err := os.ReadFile("testdata/spec-examples/" + name)
	if err != nil {
		t.Fatal(err)
	}
	r := &kgo.Record{}
	section := ""
	var value bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "---") {
			section = strings.Trim(line, "- ")
			continue
		}
		if strings.Contains(line, "...") || strings.TrimSpace(line) == "" && section != "value" {
			continue
		}
		switch section {
		case "Message":
			if v, ok := strings.CutPrefix(line, "Topic Name: "); ok {
				r.Topic = v
			}
		case "key":
			if v, ok := strings.CutPrefix(line, "Key: "); ok {
				r.Key = []byte(v)
			}
		case "headers":
			k, v, _ := strings.Cut(line, ":")
			v = strings.Trim(strings.TrimSpace(v), `"`)
			r.Headers = append(r.Headers, kgo.RecordHeader{Key: strings.TrimSpace(k), Value: []byte(v)})
		case "value":
			value.WriteString(line + "\n")
		}
	}
	if v := bytes.TrimSpace(value.Bytes()); len(v) > 0 {
		r.Value = v
	}
	return r
}

func headerMap(r *kgo.Record) map[string]string {
	m := map[string]string{}
	for _, h := range r.Headers {
		m[h.Key] = string(h.Value)
	}
	return m
}

// The binary-mode example of the binding spec decodes to its attributes,
// and encoding the event again gives the same headers.
func TestSpecExampleBinary(t *testing.T) {
	r := specExample(t, "kafka-protocol-binding_01.txt")
	r.Value = []byte{0x00, 0x01, 0x02} // the spec's "application data encoded in Avro"
	e, err := decode(r)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"specversion": "1.0", "type": "com.example.someevent", "source": "/mycontext/subcontext", "id": "1234-1234-1234", "time": "2018-04-05T03:56:24Z"}
	for k, v := range want {
		if got, _ := ebevent.Attr(e, k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if e.DataContentType() != "application/avro" || !bytes.Equal(e.Data(), r.Value) {
		t.Errorf("data %q of %q", e.Data(), e.DataContentType())
	}
	var back kgo.Record
	if err := encode(e, ModeBinary, &back); err != nil {
		t.Fatal(err)
	}
	if got, want := headerMap(&back), headerMap(r); !equalMaps(got, want) {
		t.Errorf("headers\n got %v\nwant %v", got, want)
	}
	if !bytes.Equal(back.Value, r.Value) {
		t.Errorf("value %q", back.Value)
	}
}

// The structured example: content-type application/cloudevents+json;
// charset=UTF-8 and the JSON event format in the value.
func TestSpecExampleStructured(t *testing.T) {
	if got := strings.TrimSpace(string(mustRead(t, "testdata/spec-examples/kafka-protocol-binding_02.txt"))); got != "content-type: "+MediaStructured+"; charset=UTF-8" {
		t.Fatalf("spec content type %q", got)
	}
	r := specExample(t, "kafka-protocol-binding_03.txt")
	// The spec shows the XML data as an object placeholder; the JSON format
	// carries data of a non-JSON type as a string, which our decoder
	// requires (the format says it MAY reject anything else).
	r.Value = regexp.MustCompile(`"data" : \{\s*\}`).ReplaceAll(r.Value, []byte(`"data" : "<much wow=\"xml\"/>"`))
	e, err := decode(r)
	if err != nil {
		t.Fatalf("%v\n%s", err, r.Value)
	}
	if e.ID() != "1234-1234-1234" || e.Type() != "com.example.someevent" || e.DataContentType() != "application/xml" {
		t.Errorf("got %v", e)
	}
	var back kgo.Record
	if err := encode(e, ModeStructured, &back); err != nil {
		t.Fatal(err)
	}
	if got := headerMap(&back)["content-type"]; got != MediaStructured+"; charset=UTF-8" {
		t.Errorf("content-type %q", got)
	}
	again, err := decode(&back)
	if err != nil {
		t.Fatal(err)
	}
	if again.String() != e.String() {
		t.Errorf("structured round trip changed the event:\n%s\n%s", e, again)
	}
}

// The sdk-go (sarama binding) vectors: binary with ce_datacontenttype,
// structured, and a record that is no CloudEvent.
func TestSDKGoVectors(t *testing.T) {
	var vectors []struct {
		Binding, Name  string
		Headers        map[string]string
		Value          string
		ExpectEncoding string `json:"expect_encoding"`
	}
	if err := json.Unmarshal(mustRead(t, "testdata/sdk-go-wire-vectors.json"), &vectors); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, v := range vectors {
		if v.Binding != "kafka" {
			continue
		}
		n++
		t.Run(v.Name, func(t *testing.T) {
			r := &kgo.Record{Value: []byte(v.Value)}
			for k, val := range v.Headers {
				r.Headers = append(r.Headers, kgo.RecordHeader{Key: k, Value: []byte(val)})
			}
			if v.ExpectEncoding == "structured" {
				sample := ce.New()
				sample.SetID("x")
				sample.SetSource("/s")
				sample.SetType("t")
				r.Value, _ = ebevent.EncodeJSON(&sample) // the vector's "<JSON-format CloudEvent>"
			}
			e, err := decode(r)
			switch v.ExpectEncoding {
			case "binary":
				if err != nil {
					t.Fatal(err)
				}
				for k, val := range v.Headers {
					name := strings.TrimPrefix(k, "ce_")
					got, _ := ebevent.Attr(e, name)
					if name == "time" {
						got = e.Time().Format("2006-01-02T15:04:05.00Z07:00")
					}
					if got != val {
						t.Errorf("%s = %q, want %q", name, got, val)
					}
				}
				if string(e.Data()) != v.Value {
					t.Errorf("data %q", e.Data())
				}
			case "structured":
				if err != nil || e.ID() != "x" {
					t.Fatalf("%v %v", e, err)
				}
			default:
				if !errors.Is(err, errNotCloudEvent) {
					t.Fatalf("want errNotCloudEvent, got %v, %v", e, err)
				}
			}
		})
	}
	if n != 3 {
		t.Fatalf("%d kafka vectors, want 3", n)
	}
}

// A binary event without data is a record with a null value; a structured
// one is not.
func TestNoDataIsNullValue(t *testing.T) {
	e := ce.New()
	e.SetID("1")
	e.SetSource("/s")
	e.SetType("t")
	var bin, str kgo.Record
	if err := encode(&e, ModeBinary, &bin); err != nil {
		t.Fatal(err)
	}
	if bin.Value != nil {
		t.Errorf("binary value %q, want null", bin.Value)
	}
	if _, ok := headerMap(&bin)["content-type"]; ok {
		t.Error("content-type set without data")
	}
	if err := encode(&e, ModeStructured, &str); err != nil {
		t.Fatal(err)
	}
	if str.Value == nil {
		t.Error("structured value is null")
	}
	back, err := decode(&bin)
	if err != nil || back.Data() != nil {
		t.Fatalf("%v %v", back, err)
	}
}

// Records that claim to be CloudEvents but are not valid are errors that
// name the attribute; they are not errNotCloudEvent (which may be wrapped).
func TestInvalidRecords(t *testing.T) {
	h := func(kv ...string) []kgo.RecordHeader {
		var out []kgo.RecordHeader
		for i := 0; i < len(kv); i += 2 {
			out = append(out, kgo.RecordHeader{Key: kv[i], Value: []byte(kv[i+1])})
		}
		return out
	}
	for name, r := range map[string]*kgo.Record{
		"missing id":        {Headers: h("ce_specversion", "1.0", "ce_source", "/s", "ce_type", "t")},
		"bad specversion":   {Headers: h("ce_specversion", "2.0", "ce_id", "1", "ce_source", "/s", "ce_type", "t")},
		"twice":             {Headers: h("ce_specversion", "1.0", "ce_id", "1", "ce_id", "2", "ce_source", "/s", "ce_type", "t")},
		"not UTF-8":         {Headers: h("ce_specversion", "1.0", "ce_id", "\xff", "ce_source", "/s", "ce_type", "t")},
		"bad extension":     {Headers: h("ce_specversion", "1.0", "ce_id", "1", "ce_source", "/s", "ce_type", "t", "ce_Bad-Name", "x")},
		"structured broken": {Headers: h("content-type", MediaStructured), Value: []byte(`{"id":`)},
		"structured avro":   {Headers: h("content-type", "application/cloudevents+avro"), Value: []byte(`x`)},
	} {
		t.Run(name, func(t *testing.T) {
			e, err := decode(r)
			if err == nil || errors.Is(err, errNotCloudEvent) {
				t.Fatalf("got %v, %v", e, err)
			}
		})
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
