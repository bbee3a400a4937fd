package amqpbinding_test

import (
	"strings"
	"testing"

	"github.com/eventbridge-dev/eventbridge/internal/connector/amqpbinding"
	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
)

// FuzzDecode feeds content types, application properties ("k=v" lines,
// values typed by a leading b:/i:) and bodies to Decode: it must not panic,
// and an event it returns must validate and survive an encode/decode.
func FuzzDecode(f *testing.F) {
	f.Add("application/json", "cloudEvents:specversion=1.0\ncloudEvents:id=1\ncloudEvents:source=/s\ncloudEvents:type=t", []byte(`{"a":1}`))
	f.Add("application/cloudevents+json; charset=utf-8", "", []byte(`{"specversion":"1.0","id":"1","source":"/s","type":"t"}`))
	f.Add("", "cloudEvents_specversion=1.0\ncloudEvents_id=1\ncloudEvents_source=/s\ncloudEvents_type=t\ncloudEvents_x=i:5\ncloudEvents_y=b:true", []byte{0xff})
	f.Fuzz(func(t *testing.T, ct, props string, body []byte) {
		m := map[string]any{}
		for _, line := range strings.Split(props, "\n") {
			k, v, _ := strings.Cut(line, "=")
			switch {
			case strings.HasPrefix(v, "b:"):
				m[k] = v == "b:true"
			case strings.HasPrefix(v, "i:"):
				m[k] = int64(len(v))
			default:
				m[k] = v
			}
		}
		e, _, err := amqpbinding.Decode(ct, m, body)
		if err != nil || e == nil {
			return
		}
		if err := ebevent.Validate(e); err != nil {
			t.Fatalf("decoded an invalid event: %v", err)
		}
		p := amqpbinding.Properties(e, amqpbinding.PrefixColon, amqpbinding.Natives{})
		back, _, err := amqpbinding.Decode(amqpbinding.ContentType(e), p, e.Data())
		if err != nil {
			t.Fatalf("re-decode: %v (props %v)", err, p)
		}
		if back.ID() != e.ID() || back.Source() != e.Source() || back.Type() != e.Type() {
			t.Fatalf("changed: %v -> %v", e, back)
		}
	})
}
