package mqtt

import (
	"encoding/json"
	"testing"

	"github.com/eventbridge-dev/eventbridge/internal/connector/brokertest"
	"github.com/eventbridge-dev/eventbridge/internal/resource"
)

// Validate reports every problem, each with its path.
func TestConfigProblems(t *testing.T) {
	brokertest.WantProblems(t, resource.KindSource, `{"type":"mqtt"}`,
		"source.url: required", "source.topics: required")
	brokertest.WantProblems(t, resource.KindSource, `{"type":"mqtt","url":"http://x","version":"4","topics":["a/#/b","$share//x"],"qos":3,"password":"p","tls":{"cert_file":"c"},"wrap":{},"dead_letter":"d/+"}`,
		"source.url:", "source.version:", "source.topics[0]:", "source.topics[1]:", "source.qos:", "source.password:", "source.tls:", "source.wrap.type:", "source.wrap.source:", "source.dead_letter:")
	brokertest.WantProblems(t, resource.KindSource, `{"type":"mqtt","url":"mqtt://x","topics":["$share/g/a"],"group":"g"}`,
		"source.topics[0]:")
	brokertest.WantProblems(t, resource.KindTarget, `{"type":"mqtt","url":"mqtt://x"}`,
		"target.topic: required")
	brokertest.WantProblems(t, resource.KindTarget, `{"type":"mqtt","url":"mqtt://x","version":"3.1.1","topic":"a/{Type}","mode":"binary"}`,
		"target.topic:", "target.mode:")
	brokertest.WantProblems(t, resource.KindTarget, `{"type":"mqtt","url":"mqtt://x","topic":"a/#"}`,
		"target.topic:")
	// A URL is shown by the API and in logs: no credentials in it.
	brokertest.WantProblems(t, resource.KindTarget, `{"type":"mqtt","url":"mqtt://u:pw-in-url@x","topic":"a"}`,
		"target.url: must not hold a user name or password")
	for _, ok := range []string{
		`{"type":"mqtt","url":"mqtts://a:8883,mqtts://b:8883","version":5,"topics":["a/+/b","#"],"qos":0}`,
		`{"type":"mqtt","url":"mqtt://x","version":"3.1.1","topics":["a"],"group":"g","session_expiry":"0s"}`,
	} {
		if _, err := resource.DecodeConnector(resource.KindSource, json.RawMessage(ok), "source"); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
}
