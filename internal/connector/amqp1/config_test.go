package amqp1_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/eventbridge-dev/eventbridge/internal/resource"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

// Every problem of a config is reported with its path.
func TestConfigProblems(t *testing.T) {
	cases := []struct {
		kind resource.Kind
		cfg  string
		want []string
	}{
		{resource.KindSource, `{"type":"amqp1","url":"amqp://u:p@h","credit":0,"redeliver":"drop","wrap":{"type":"t"},"reconnect_max":"1ms"}`,
			[]string{"source.url", "source.address", "source.redeliver", "source.wrap.source", "source.reconnect_max"}},
		{resource.KindTarget, `{"type":"amqp1","url":"http://h","mode":"raw","property_prefix":"x","tls":{"cert_file":"c"},"settlement_mode":"maybe","link_properties":{"":"v"}}`,
			[]string{"target.url", "target.address", "target.mode", "target.property_prefix", "target.tls", "target.settlement_mode", "target.link_properties"}},
	}
	for _, c := range cases {
		_, err := resource.DecodeConnector(c.kind, json.RawMessage(c.cfg), string(c.kind))
		var ve *spec.ValidationError
		if !errors.As(err, &ve) {
			t.Fatalf("%s: %v", c.cfg, err)
		}
		got := map[string]bool{}
		for _, p := range ve.Problems {
			got[p.Path] = true
		}
		for _, w := range c.want {
			if !got[w] {
				t.Errorf("%s: no problem at %s in %v", c.cfg, w, ve.Problems)
			}
		}
	}
}
