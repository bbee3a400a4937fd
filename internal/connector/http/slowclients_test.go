package http

import (
	"context"
	nethttp "net/http"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/httpsrc"
	"github.com/eventbridge-dev/eventbridge/internal/httplimit/slowtest"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
	"github.com/eventbridge-dev/eventbridge/internal/telemetry"
)

// TestSlowClientsOwnListener: on its own listener, the source answers
// slow clients beyond max_connections 503 at once and cuts the others
// (408) after read_timeout.
func TestSlowClientsOwnListener(t *testing.T) {
	cfg := &SourceConfig{Common: connector.Common{Type: "http"}, Endpoint: httpsrc.Endpoint{Listen: "127.0.0.1:0", MaxConnections: 3, ReadTimeout: spec.Duration(time.Second)}}
	cfg.Defaults()
	src, err := newSource("slow", cfg, connector.Deps{Ingest: &recorder{}, Metrics: telemetry.NewMetrics()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := src.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = src.Stop(context.Background()) }()
	addr := src.(*Source).Health().Detail["listen"].(string)
	got := slowtest.Run(ctx, addr, "/events", 12)
	if ctx.Err() != nil {
		t.Fatal("slow clients were not cut within 60s")
	}
	t.Logf("answers: %v", got)
	if got[nethttp.StatusRequestTimeout] < 1 || got[nethttp.StatusRequestTimeout] > 3 || got[nethttp.StatusRequestTimeout]+got[nethttp.StatusServiceUnavailable] != 12 {
		t.Errorf("answers %v: want 1..3 × 408 and the rest 503", got)
	}
	if n := src.(*Source).InFlight(); n != 0 {
		t.Errorf("%d requests still held", n)
	}
}
