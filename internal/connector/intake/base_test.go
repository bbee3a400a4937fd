package intake

import (
	"context"
	"errors"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/telemetry"
)

type ingestFunc func(ctx context.Context, source string, events []*ce.Event) error

func (f ingestFunc) Ingest(ctx context.Context, source string, events []*ce.Event) error {
	return f(ctx, source, events)
}

// TestBaseStore: Store ingests as the source, within the timeout, and
// counts what was stored, what the bus refused, and what was invalid, in
// the source's and the connection's metrics.
func TestBaseStore(t *testing.T) {
	var fail bool
	calls := 0
	ing := ingestFunc(func(ctx context.Context, source string, events []*ce.Event) error {
		calls++
		if _, ok := ctx.Deadline(); !ok || source != "s" {
			t.Errorf("deadline %v, source %q", ok, source)
		}
		if fail {
			return errors.New("bus down")
		}
		return nil
	})
	m := telemetry.NewMetrics()
	var b Base
	b.Init("s", "redis", connector.Deps{Ingest: ing, Metrics: m})
	if b.Health().State != component.New {
		t.Fatalf("state %v", b.Health().State)
	}
	two := []*ce.Event{{}, {}}
	if err := b.Store(context.Background(), time.Second, nil); err != nil || calls != 0 {
		t.Fatalf("nothing to store: %v, %d calls", err, calls)
	}
	if err := b.Store(context.Background(), time.Second, two); err != nil {
		t.Fatal(err)
	}
	fail = true
	if err := b.Store(context.Background(), time.Second, two[:1]); err == nil {
		t.Fatal("no error from a refused batch")
	}
	b.Received(3)
	b.Invalid(errors.New("not a CloudEvent"))
	msgs := func(outcome string) float64 {
		return testutil.ToFloat64(m.ConnMessages.WithLabelValues("s", "redis", "in", outcome))
	}
	if msgs("ok") != 2 || msgs("error") != 1 || msgs("invalid") != 1 {
		t.Errorf("messages ok %v, error %v, invalid %v", msgs("ok"), msgs("error"), msgs("invalid"))
	}
	if n := testutil.ToFloat64(m.Rejected.WithLabelValues("s", "unavailable")); n != 1 {
		t.Errorf("rejected{unavailable} = %v", n)
	}
	if n := testutil.ToFloat64(m.Received.WithLabelValues("s")); n != 3 {
		t.Errorf("received = %v", n)
	}
}
