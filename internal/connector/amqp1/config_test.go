package amqp1_test

import (
	"testing"

	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/brokertest"
	"github.com/eventbridge-dev/eventbridge/internal/resource"
)

// Every problem of a config is reported with its path.
func TestConfigProblems(t *testing.T) {
	brokertest.WantProblems(t, resource.KindSource, `{"type":"amqp1","url":"amqp://u:p@h","credit":0,"redeliver":"drop","wrap":{"type":"t"},"reconnect_max":"1ms"}`,
		"source.url", "source.address", "source.redeliver", "source.wrap.source", "source.reconnect_max")
	brokertest.WantProblems(t, resource.KindTarget, `{"type":"amqp1","url":"http://h","mode":"raw","property_prefix":"x","tls":{"cert_file":"c"},"settlement_mode":"maybe","link_properties":{"":"v"}}`,
		"target.url", "target.address", "target.mode", "target.property_prefix", "target.tls", "target.settlement_mode", "target.link_properties")
}

// The sources and targets report their URL for the outbound address checks.
func TestOutbound(t *testing.T) {
	for _, kind := range []resource.Kind{resource.KindSource, resource.KindTarget} {
		c, err := resource.DecodeConnector(kind, []byte(`{"type":"amqp1","url":"amqp://broker:5672","address":"q"}`), "x")
		if err != nil {
			t.Fatal(err)
		}
		o, ok := c.(connector.Outbound)
		if !ok {
			t.Fatalf("%T is not connector.Outbound", c)
		}
		if got := o.OutboundAddresses(); len(got) != 1 || got[0].Field != "url" || got[0].Value != "amqp://broker:5672" {
			t.Fatalf("%T: %+v", c, got)
		}
	}
}
