package nats

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
	"github.com/eventbridge-dev/eventbridge/internal/resource"
)

type healthStatus = component.Status

const running = component.Running

func decodeSource(t testing.TB, cfgJSON string) connector.Config {
	t.Helper()
	cfg, err := resource.DecodeConnector(resource.KindSource, json.RawMessage(cfgJSON), "source")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// startCoreSource starts a server and a core NATS source "src" of in.>
// with dead letters to dlq.in. It returns a client connection, a
// subscription to dlq.in, where the source stores, and its deps (for
// the metrics).
func startCoreSource(t *testing.T) (*nats.Conn, *nats.Subscription, *connectortest.Collector, connector.Deps) {
	t.Helper()
	s := startServer(t)
	nc, err := nats.Connect(s.url())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	dlq, err := nc.SubscribeSync("dlq.in")
	if err != nil {
		t.Fatal(err)
	}
	col := connectortest.NewCollector()
	deps := connectortest.Deps(col)
	src, err := newSource("src", decodeSource(t, fmt.Sprintf(`{"type":"nats","url":%q,"subjects":["in.>"],"dead_letter":"dlq.in"}`, s.url())), deps)
	if err != nil {
		t.Fatal(err)
	}
	startAndWait(t, src)
	return nc, dlq, col, deps
}
