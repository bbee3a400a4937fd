package event

import (
	"net/url"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/cloudevents/sdk-go/v2/types"
)

func TestAttrExtensionTypes(t *testing.T) {
	e := ce.New()
	u, _ := url.Parse("https://example.com/x")
	for name, v := range map[string]any{
		"str":  "s",
		"num":  int32(-5),
		"yes":  true,
		"bin":  []byte{0, 0xff},
		"uri":  types.URI{URL: *u},
		"when": time.Date(2020, 1, 2, 3, 4, 5, 600000000, time.FixedZone("x", 3600)),
	} {
		e.SetExtension(name, v)
	}
	want := map[string]string{
		"str":  "s",
		"num":  "-5",
		"yes":  "true",
		"bin":  "AP8=",
		"uri":  "https://example.com/x",
		"when": "2020-01-02T02:04:05.6Z",
	}
	for name, w := range want {
		if got, ok := Attr(&e, name); !ok || got != w {
			t.Errorf("Attr(%s) = %q, %v; want %q", name, got, ok, w)
		}
	}
	bin := BinaryAttributes(&e)
	for name, w := range want {
		if bin[name] != w {
			t.Errorf("BinaryAttributes()[%s] = %q, want %q", name, bin[name], w)
		}
	}
}
