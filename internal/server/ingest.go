package server

import (
	"context"
	"log/slog"
	"sync"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/telemetry"
)

// dupLogEvery is how often, at most, dropped duplicates of one source are
// logged.
const dupLogEvery = time.Hour

// ingester is the connector.Ingester sources get: the bus, counted.
type ingester struct {
	bus     *bus.Bus
	metrics *telemetry.Metrics
	log     *slog.Logger // nil: duplicates are only counted

	mu        sync.Mutex
	dupLogged map[string]time.Time // source: when its duplicates were last logged
}

func (i *ingester) Ingest(ctx context.Context, source string, events []*ce.Event) error {
	dups, err := i.bus.Publish(ctx, source, events)
	if err != nil {
		return err
	}
	i.metrics.Stored.WithLabelValues(source).Add(float64(len(events) - dups))
	if dups > 0 {
		i.metrics.Duplicates.WithLabelValues(source).Add(float64(dups))
		i.logDuplicates(source, events, dups)
	}
	return nil
}

// logDuplicates says, once per source and dupLogEvery, that events were
// dropped as duplicates: an event a target sends back into the same bridge
// with the same (source, id) is otherwise lost without a word.
func (i *ingester) logDuplicates(source string, events []*ce.Event, dups int) {
	if i.log == nil {
		return
	}
	now := time.Now()
	i.mu.Lock()
	last, seen := i.dupLogged[source]
	if seen && now.Sub(last) < dupLogEvery {
		i.mu.Unlock()
		return
	}
	if i.dupLogged == nil {
		i.dupLogged = map[string]time.Time{}
	}
	i.dupLogged[source] = now
	i.mu.Unlock()
	attrs := []any{"source", source, "duplicates", dups}
	if len(events) == 1 {
		attrs = append(attrs, "ce_source", events[0].Source(), "id", events[0].ID())
	}
	attrs = append(attrs, "hint", "an event with the (source, id) of one stored inside bus.dedup_window is acknowledged but not stored or delivered again; "+
		"a target that sends events back into this bridge should set a new id or source (or set dedup: false on the source); "+
		"counted in eventbridge_events_duplicate_total, logged at most once an hour per source")
	i.log.Info("duplicate events dropped", attrs...)
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
