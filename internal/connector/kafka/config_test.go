package kafka_test

import (
	"testing"

	"github.com/eventbridge-dev/eventbridge/internal/connector/brokertest"
	"github.com/eventbridge-dev/eventbridge/internal/resource"
)

// Validate reports every problem, each with its path.
func TestConfigProblems(t *testing.T) {
	brokertest.WantProblems(t, resource.KindSource, `{"type":"kafka","brokers":["nohost"],"topics":["bad topic"],"start":"middle","dead_letter":"bad topic","wrap":{},"sasl":{"mechanism":"gssapi"},"tls":{"cert_file":"/x"}}`,
		"source.brokers[0]", "source.topics[0]", "source.start", "source.dead_letter", "source.wrap.type", "source.wrap.source", "source.sasl.mechanism", "source.sasl.username", "source.tls: cert_file and key_file", "source.tls.cert_file")
	brokertest.WantProblems(t, resource.KindSource, `{"type":"kafka"}`,
		"source.brokers", "source.topics")
	brokertest.WantProblems(t, resource.KindTarget, `{"type":"kafka","brokers":["h:1"],"topic":"a.{Type","key":"{x","mode":"text","compression":"brotli","max_message_bytes":10}`,
		"target.topic", "target.key", "target.mode", "target.compression", "target.max_message_bytes")
}
