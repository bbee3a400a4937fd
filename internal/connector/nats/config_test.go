package nats

import (
	"encoding/json"
	"testing"

	"github.com/eventbridge-dev/eventbridge/internal/connector/brokertest"
	"github.com/eventbridge-dev/eventbridge/internal/resource"
)

// Validate reports every problem, each with its path.
func TestConfigProblems(t *testing.T) {
	brokertest.WantProblems(t, resource.KindSource, `{"type":"nats"}`,
		"source.url: required", "source.subjects: required")
	brokertest.WantProblems(t, resource.KindSource, `{"type":"nats","url":"http://x","subjects":["a.>.b","a..b"],"token":"t","user":"u","queue":"a b","max_batch":-1,"dead_letter":"d.*"}`,
		"source.url:", "source.subjects[0]:", "source.subjects[1]:", "source: credentials, nkey, token and user", "source.queue:", "source.max_batch:", "source.dead_letter:")
	brokertest.WantProblems(t, resource.KindSource, `{"type":"jetstream","url":"nats://x","create_stream":true,"storage":"disk","deliver":"first","ack_wait":"10ms"}`,
		"source.stream: required", "source.subjects: required with create_stream", "source.storage:", "source.deliver:", "source.ack_wait:")
	brokertest.WantProblems(t, resource.KindTarget, `{"type":"nats","url":"nats://x"}`,
		"target.subject: required")
	brokertest.WantProblems(t, resource.KindTarget, `{"type":"jetstream","url":"nats://x","subject":"a.>","mode":"batch"}`,
		"target.subject:", "target.mode:")
	brokertest.WantProblems(t, resource.KindTarget, `{"type":"nats","url":"nats://x","subject":"a.{bad-name}"}`,
		"target.subject:")
	// A URL is shown by the API and in logs: no credentials in it.
	brokertest.WantProblems(t, resource.KindTarget, `{"type":"nats","url":"nats://x:4222,nats://u:pw-in-url@y:4222","subject":"a"}`,
		"target.url: must not hold a user name or password")
	for _, ok := range []struct {
		kind resource.Kind
		cfg  string
	}{
		{resource.KindSource, `{"type":"nats","url":"nats://a:4222,nats://b:4222","subjects":["a.*.b","c.>"],"user":"u","password":"p"}`},
		{resource.KindSource, `{"type":"jetstream","url":"tls://x","stream":"S","tls":{"insecure_skip_verify":true}}`},
		{resource.KindTarget, `{"type":"jetstream","url":"nats://x","subject":"a.{type}.{subject}","stream":"S"}`},
	} {
		if _, err := resource.DecodeConnector(ok.kind, json.RawMessage(ok.cfg), string(ok.kind)); err != nil {
			t.Errorf("%s: %v", ok.cfg, err)
		}
	}
}
