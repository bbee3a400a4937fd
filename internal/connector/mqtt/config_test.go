package mqtt

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/eventbridge-dev/eventbridge/internal/resource"
)

// Validate reports every problem, each with its path.
func TestConfigProblems(t *testing.T) {
	cases := []struct {
		kind resource.Kind
		cfg  string
		want []string
	}{
		{resource.KindSource, `{"type":"mqtt"}`, []string{"source.url: required", "source.topics: required"}},
		{resource.KindSource, `{"type":"mqtt","url":"http://x","version":"4","topics":["a/#/b","$share//x"],"qos":3,"password":"p","tls":{"cert_file":"c"},"wrap":{},"dead_letter":"d/+"}`,
			[]string{"source.url:", "source.version:", "source.topics[0]:", "source.topics[1]:", "source.qos:", "source.password:", "source.tls:", "source.wrap.type:", "source.wrap.source:", "source.dead_letter:"}},
		{resource.KindSource, `{"type":"mqtt","url":"mqtt://x","topics":["$share/g/a"],"group":"g"}`, []string{"source.topics[0]:"}},
		{resource.KindTarget, `{"type":"mqtt","url":"mqtt://x"}`, []string{"target.topic: required"}},
		{resource.KindTarget, `{"type":"mqtt","url":"mqtt://x","version":"3.1.1","topic":"a/{Type}","mode":"binary"}`, []string{"target.topic:", "target.mode:"}},
		{resource.KindTarget, `{"type":"mqtt","url":"mqtt://x","topic":"a/#"}`, []string{"target.topic:"}},
		// A URL is shown by the API and in logs: no credentials in it.
		{resource.KindTarget, `{"type":"mqtt","url":"mqtt://u:pw-in-url@x","topic":"a"}`, []string{"target.url: must not hold a user name or password"}},
	}
	for _, c := range cases {
		_, err := resource.DecodeConnector(c.kind, json.RawMessage(c.cfg), string(c.kind))
		if err == nil {
			t.Errorf("%s: no error", c.cfg)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s:\n%v\nlacks %q", c.cfg, err, w)
			}
		}
	}
	for _, ok := range []string{
		`{"type":"mqtt","url":"mqtts://a:8883,mqtts://b:8883","version":5,"topics":["a/+/b","#"],"qos":0}`,
		`{"type":"mqtt","url":"mqtt://x","version":"3.1.1","topics":["a"],"group":"g","session_expiry":"0s"}`,
	} {
		if _, err := resource.DecodeConnector(resource.KindSource, json.RawMessage(ok), "source"); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
}
