package http_test

import (
	"fmt"
	"net"
	"testing"

	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
	_ "github.com/eventbridge-dev/eventbridge/internal/connector/http"
)

// The http source and target pass the connector conformance suite: the
// target POSTs to a source on its own listener, also in batches.
func TestConformance(t *testing.T) {
	ports := map[string]string{}
	addr := func(t testing.TB, channel string) string {
		if a, ok := ports[channel]; ok {
			return a
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		a := ln.Addr().String()
		ln.Close()
		ports[channel] = a
		return a
	}
	connectortest.Run(t, connectortest.Harness{
		Features:   connectortest.Features{Modes: []string{"binary", "structured", "batch"}, Persistent: true},
		SourceType: "http", TargetType: "http",
		Source: func(t testing.TB, ch string) string {
			return fmt.Sprintf(`{"type":"http","listen":%q,"path":"/%s","max_event_size":"2MiB","max_batch_size":"4MiB"}`, addr(t, ch), ch)
		},
		Target: func(t testing.TB, ch, mode string) string {
			return fmt.Sprintf(`{"type":"http","url":"http://%s/%s","mode":%q}`, addr(t, ch), ch, mode)
		},
	})
}
