package amqp

import (
	"testing"
	"time"

	"github.com/goccy/go-yaml"
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
