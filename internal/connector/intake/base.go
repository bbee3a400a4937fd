package intake

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/conntrack"
)

// Base is what the sources whose client library reconnects by itself
// (kafka, redis, postgres) hold besides their protocol: name, deps,
// logger, connection state, background loops, and the metrics of what
// they receive. A source embeds it and calls Init from its constructor.
type Base struct {
	Name  string
	Deps  connector.Deps
	Log   *slog.Logger
	Conn  *conntrack.Conn
	Loops conntrack.Loops
	// Failures logs failing stores once per change of state (Store
	// updates it). A source may replace it in its constructor, after
	// Init, to say what becomes of its messages meanwhile.
	Failures *Failures

	received prometheus.Counter
	rejected *prometheus.CounterVec

	component.Tracker
}

// Init sets up source name of type typ (state New).
func (b *Base) Init(name, typ string, deps connector.Deps) {
	b.Name, b.Deps, b.Log = name, deps, deps.Log("source", name)
	b.Conn = conntrack.New(&b.Tracker, deps.Metrics, name, typ)
	b.received = deps.Metrics.Received.WithLabelValues(name)
	b.rejected = deps.Metrics.Rejected.MustCurryWith(prometheus.Labels{"source": name})
	b.Failures = NewFailures(b.Log, "")
	b.Set(component.New, nil)
}

// Received counts n messages received.
func (b *Base) Received(n int) { b.received.Add(float64(n)) }

// Invalid counts a message refused because it is not a valid CloudEvent
// (err says why).
func (b *Base) Invalid(err error) {
	b.rejected.WithLabelValues(connector.RejectReason(err)).Inc()
	b.Conn.Message(conntrack.In, conntrack.Invalid, 1)
}

// ErrNotStored marks the error of Store: the bus did not take the events.
// Store has logged it (once per change of state, see Failures): the
// caller need not log it again.
var ErrNotStored = errors.New("events not stored")

// Store ingests events (within timeout) and counts them as stored, or,
// when the bus does not take them, as failed and rejected (unavailable);
// b.Failures logs when storing starts failing and when it works again.
// It returns Ingest's error wrapped in ErrNotStored; nothing to store is
// no error. A failure because ctx ended (the source stopping) is not
// logged.
func (b *Base) Store(ctx context.Context, timeout time.Duration, events []*ce.Event) error {
	if len(events) == 0 {
		return nil
	}
	ictx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := b.Deps.Ingest.Ingest(ictx, b.Name, events); err != nil {
		b.rejected.WithLabelValues("unavailable").Add(float64(len(events)))
		b.Conn.Message(conntrack.In, conntrack.Error, len(events))
		if ctx.Err() == nil {
			b.Failures.Failed(len(events), err)
		}
		return fmt.Errorf("%w: %w", ErrNotStored, err)
	}
	b.Conn.Message(conntrack.In, conntrack.OK, len(events))
	b.Failures.Stored()
	return nil
}
