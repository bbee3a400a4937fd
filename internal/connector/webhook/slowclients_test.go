package webhook

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/httpsrc"
	"github.com/eventbridge-dev/eventbridge/internal/httplimit/slowtest"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

// TestSlowClientsOwnListener: a webhook source on its own listener
// answers slow clients beyond max_connections 503 at once and cuts the
// others (408) after read_timeout.
func TestSlowClientsOwnListener(t *testing.T) {
	ep := &Endpoint{Endpoint: httpsrc.Endpoint{Listen: "127.0.0.1:0", MaxConnections: 2, ReadTimeout: spec.Duration(time.Second)}}
	ep.FillDefaults("/hook")
	h := HandlerFunc(func(context.Context, *Request) (*Reply, error) { return &Reply{}, nil })
	s := NewSource("slow", "test", ep, connector.Deps{}, h, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Stop(context.Background()) }()
	got := slowtest.Run(ctx, s.Health().Detail["listen"].(string), "/hook", 10)
	if ctx.Err() != nil {
		t.Fatal("slow clients were not cut within 60s")
	}
	t.Logf("answers: %v", got)
	if got[http.StatusRequestTimeout] < 1 || got[http.StatusRequestTimeout] > 2 || got[http.StatusRequestTimeout]+got[http.StatusServiceUnavailable] != 10 {
		t.Errorf("answers %v: want 1..2 × 408 and the rest 503", got)
	}
}
