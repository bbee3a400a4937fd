package server

import (
	"context"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/telemetry"
)

// ingester is the connector.Ingester sources get: the bus, counted.
type ingester struct {
	bus     *bus.Bus
	metrics *telemetry.Metrics
}

func (i *ingester) Ingest(ctx context.Context, source string, events []*ce.Event) error {
	dups, err := i.bus.Publish(ctx, source, events)
	if err != nil {
		return err
	}
	i.metrics.Stored.WithLabelValues(source).Add(float64(len(events) - dups))
	if dups > 0 {
		i.metrics.Duplicates.WithLabelValues(source).Add(float64(dups))
	}
	return nil
}

// IngestNoDedup stores every copy (sources with dedup: false).
func (i *ingester) IngestNoDedup(ctx context.Context, source string, events []*ce.Event) error {
	if err := i.bus.PublishNoDedup(ctx, source, events); err != nil {
		return err
	}
	i.metrics.Stored.WithLabelValues(source).Add(float64(len(events)))
	return nil
}

var _ connector.Ingester = (*ingester)(nil)
