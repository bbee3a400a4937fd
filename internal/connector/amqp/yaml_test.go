package amqp

import (
	"testing"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/amqpbinding"
)

// TestConfigYAML: the fields of the shared amqpbinding.Endpoint are read
// from a config file at the top level of the connector, beside the rest.
func TestConfigYAML(t *testing.T) {
	var c SourceConfig
	doc := "url: amqp://broker:5672/v\nusername: u\nconnect_timeout: 2s\nreconnect_max: 3s\nheartbeat: 4s\nqueue: q\n"
	if err := yaml.UnmarshalWithOptions([]byte(doc), &c, yaml.DisallowUnknownField()); err != nil {
		t.Fatal(err)
	}
	if c.URL != "amqp://broker:5672/v" || c.Username != "u" || c.ConnectTimeout.D() != 2*time.Second ||
		c.ReconnectMax.D() != 3*time.Second || c.Heartbeat.D() != 4*time.Second || c.Queue != "q" {
		t.Fatalf("%+v", c)
	}
}

// TestOutbound: the sources and targets report their URL (from the
// embedded amqpbinding.Endpoint) for the outbound address checks.
func TestOutbound(t *testing.T) {
	for _, c := range []connector.Config{
		&SourceConfig{ConnConfig: ConnConfig{Endpoint: amqpbinding.Endpoint{URL: "amqp://broker/"}}},
		&TargetConfig{ConnConfig: ConnConfig{Endpoint: amqpbinding.Endpoint{URL: "amqp://broker/"}}},
	} {
		o, ok := c.(connector.Outbound)
		if !ok {
			t.Fatalf("%T is not connector.Outbound", c)
		}
		if got := o.OutboundAddresses(); len(got) != 1 || got[0].Field != "url" || got[0].Value != "amqp://broker/" {
			t.Fatalf("%T: %+v", c, got)
		}
	}
}
