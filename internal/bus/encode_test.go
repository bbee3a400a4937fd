package bus

import (
	"bytes"
	"net/url"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/cloudevents/sdk-go/v2/types"

	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
)

// TestWriteEventJSONIsSDKs holds writeEventJSON to the bytes of sdk-go's
// ce.WriteJson, for every kind of attribute, extension and data.
func TestWriteEventJSONIsSDKs(t *testing.T) {
	odd := "q\"uote \\ back\x01ctl\u2028 ünï <&> \xff"
	cases := map[string]func(e *ce.Event){
		"minimal":  func(e *ce.Event) {},
		"odd text": func(e *ce.Event) { e.SetID(odd); e.SetType(odd); e.SetSubject(odd); e.SetSource("/a b/" + odd) },
		"all attributes": func(e *ce.Event) {
			e.SetSubject("sub")
			e.SetTime(time.Date(2026, 12, 7, 12, 0, 0, 123456789, time.FixedZone("x", 3600)))
			e.SetDataSchema("https://example.com/schema")
			e.SetDataContentType("application/json")
			ebevent.SetBinaryData(e, []byte(`{"a":[1,2,{"b":"c"}]}`))
		},
		"json data, no content type": func(e *ce.Event) { ebevent.SetBinaryData(e, []byte(`{"n":1}`)) },
		"json data with parameters": func(e *ce.Event) {
			e.SetDataContentType("Application/JSON ; charset=utf-8")
			ebevent.SetBinaryData(e, []byte(` [1, 2] `))
		},
		"text data": func(e *ce.Event) {
			e.SetDataContentType("text/plain")
			ebevent.SetBinaryData(e, []byte(odd[:len(odd)-1]))
		},
		"binary data": func(e *ce.Event) {
			e.SetDataContentType("application/octet-stream")
			ebevent.SetBinaryData(e, []byte{0, 1, 2, 0xff})
		},
		"base64 json": func(e *ce.Event) {
			e.SetDataContentType("application/json")
			e.DataEncoded, e.DataBase64 = []byte("not json"), true
		},
		"empty data": func(e *ce.Event) { e.DataEncoded = []byte{} },
		"extensions": func(e *ce.Event) {
			u, _ := url.Parse("https://example.com/x")
			e.SetExtension("zstr", odd)
			e.SetExtension("aint", 42)
			e.SetExtension("mbool", true)
			e.SetExtension("uri", types.URI{URL: *u})
			e.SetExtension("ts", time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC))
			e.SetExtension("bin", []byte{1, 2, 3})
			e.SetExtension("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
		},
		"v0.3": func(e *ce.Event) {
			e.SetSpecVersion(ce.CloudEventsVersionV03)
			e.SetID("1")
			e.SetSource("/s")
			e.SetType("t")
			e.SetDataContentType("application/json")
			ebevent.SetBinaryData(e, []byte(`{"x":1}`))
		},
	}
	for name, edit := range cases {
		t.Run(name, func(t *testing.T) {
			e := ce.New()
			e.SetID("id-1")
			e.SetSource("/src")
			e.SetType("com.example.t")
			edit(&e)
			var want, got bytes.Buffer
			if err := ce.WriteJson(&e, &want); err != nil {
				t.Fatal(err)
			}
			for range 3 { // the pooled stream, reused
				got.Reset()
				if err := writeEventJSON(&e, &got); err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Equal(got.Bytes(), want.Bytes()) {
				t.Fatalf("writeEventJSON:\n%s\nce.WriteJson:\n%s", got.Bytes(), want.Bytes())
			}
		})
	}
}
