package lifecycle

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
)

func TestDecodeChoria(t *testing.T) {
	cases := []struct{ name, in, typ, subject string }{
		{"bare startup", `{"protocol":"io.choria.lifecycle.v1.startup","id":"01e72410-d734-4611-9485-8c6a2dd2579b","identity":"c1.example.net","version":"0.6.0","timestamp":1535369537,"component":"server"}`, "io.choria.lifecycle.v1.startup", "c1.example.net"},
		{"bare shutdown", `{"protocol":"io.choria.lifecycle.v1.shutdown","id":"cb6f1dbc-d65b-49b9-907e-e4a51bee75f8","identity":"dev1.devco.net","component":"server","timestamp":1575482338}`, "io.choria.lifecycle.v1.shutdown", "dev1.devco.net"},
		{"legacy protocol", `{"protocol":"choria:lifecycle:alive:1","id":"x1","identity":"n1","component":"server","timestamp":1575482338,"version":"1"}`, "io.choria.lifecycle.v1.alive", "n1"},
		{"cloudevent form", `{"id":"01e72410-d734-4611-9485-8c6a2dd2579b","source":"io.choria.lifecycle","specversion":"1.0","subject":"ginkgo.example.net","time":"2018-08-24T10:36:13Z","type":"io.choria.lifecycle.v1.shutdown","datacontenttype":"application/json","data":{"protocol":"io.choria.lifecycle.v1.shutdown","id":"01e72410-d734-4611-9485-8c6a2dd2579b","identity":"ginkgo.example.net","component":"ginkgo","timestamp":1535106973}}`, "io.choria.lifecycle.v1.shutdown", "ginkgo.example.net"},
	}
	for _, c := range cases {
		e, err := DecodeChoria([]byte(c.in))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if e.Type() != c.typ || e.Source() != ChoriaSource || e.Subject() != c.subject {
			t.Errorf("%s: %s %s %s", c.name, e.Type(), e.Source(), e.Subject())
		}
		var data ChoriaEvent
		if err := json.Unmarshal(e.Data(), &data); err != nil || data.Protocol != c.typ {
			t.Errorf("%s: data %s", c.name, e.Data())
		}
		if e.Time().Before(time.Unix(1e9, 0)) {
			t.Errorf("%s: time %v", c.name, e.Time())
		}
	}
	for _, bad := range []string{`{"specversion":"1.0","source":"/other","id":"1","type":"t"}`, `{"protocol":"io.choria.lifecycle.v1","id":"1"}`, `not json`} {
		if _, err := DecodeChoria([]byte(bad)); !errors.Is(err, ErrNotLifecycle) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}
