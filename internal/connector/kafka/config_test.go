package kafka_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/eventbridge-dev/eventbridge/internal/resource"
)

// Validate reports every problem, each with its path.
func TestConfigProblems(t *testing.T) {
	for _, c := range []struct {
		kind resource.Kind
		cfg  string
		want []string
	}{
		{resource.KindSource, `{"type":"kafka","brokers":["nohost"],"topics":["bad topic"],"start":"middle","dead_letter":"bad topic","wrap":{},"sasl":{"mechanism":"gssapi"},"tls":{"cert_file":"/x"}}`,
			[]string{"source.brokers[0]", "source.topics[0]", "source.start", "source.dead_letter", "source.wrap.type", "source.wrap.source", "source.sasl.mechanism", "source.sasl.username", "source.tls: cert_file and key_file", "source.tls.cert_file"}},
		{resource.KindSource, `{"type":"kafka"}`, []string{"source.brokers", "source.topics"}},
		{resource.KindTarget, `{"type":"kafka","brokers":["h:1"],"topic":"a.{Type","key":"{x","mode":"text","compression":"brotli","max_message_bytes":10}`,
			[]string{"target.topic", "target.key", "target.mode", "target.compression", "target.max_message_bytes"}},
	} {
		_, err := resource.DecodeConnector(c.kind, json.RawMessage(c.cfg), string(c.kind))
		if err == nil {
			t.Fatalf("%s: no error", c.cfg)
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: no problem at %s in:\n%v", c.cfg, w, err)
			}
		}
	}
}
