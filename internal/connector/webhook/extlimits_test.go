package webhook_test

import (
	"context"
	"fmt"
	"testing"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
	"github.com/eventbridge-dev/eventbridge/internal/connector/webhook"
	"github.com/eventbridge-dev/eventbridge/internal/connector/webhook/webhooktest"
)

// Whatever a handler builds its events from (a vendor's attributes,
// message attributes, a CloudEvents body), the source refuses an event
// with more extensions than max_extensions: 400 too-many-extensions,
// nothing stored.
func TestHandlerEventsAreCapped(t *testing.T) {
	h := webhook.HandlerFunc(func(_ context.Context, req *webhook.Request) (*webhook.Reply, error) {
		e := webhook.Event{ID: "1", Source: "/s", Type: "t", Extensions: map[string]string{}}
		for i := range 101 {
			e.Extensions[fmt.Sprintf("x%d", i)] = "v"
		}
		ev, err := e.Build()
		if err != nil {
			return nil, err
		}
		return &webhook.Reply{Events: []*ce.Event{ev}}, nil
	})
	col := connectortest.NewCollector()
	deps := connectortest.Deps(col)
	ep := &webhook.Endpoint{}
	ep.FillDefaults("/hooks/x")
	src := webhook.NewSource("w", "x", ep, deps, h, webhook.Options{})
	p := webhooktest.WantProblem(t, webhooktest.Post(src, []byte("{}")), 400, "too-many-extensions")
	if len(p.Errors) != 1 || p.Errors[0].Field != "max_extensions" {
		t.Fatalf("problem %+v does not name max_extensions", p)
	}
	if col.Count() != 0 {
		t.Fatal("the event was stored")
	}
}
