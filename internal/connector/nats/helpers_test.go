package nats

import (
	"encoding/json"
	"testing"

	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/resource"
)

type healthStatus = component.Status

const running = component.Running

func decodeSource(t *testing.T, cfgJSON string) connector.Config {
	t.Helper()
	cfg, err := resource.DecodeConnector(resource.KindSource, json.RawMessage(cfgJSON), "source")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}
