package amqpbinding

import (
	"context"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/conntrack"
	"github.com/eventbridge-dev/eventbridge/internal/connector/intake"
	"github.com/eventbridge-dev/eventbridge/internal/telemetry"
)

// Source is what the amqp and amqp1 sources share: the source base, the
// reconnect loop that hands each session to the source, and the backoff
// between redeliveries of a batch that could not be stored. Start begins
// connecting in the background and returns at once (a broker that is
// down shows as state starting with the last error in Health); Stop ends
// the session, letting the batch being stored finish within ctx, and
// what was not acknowledged goes back to the broker.
type Source[S any] struct {
	intake.Base
	run *connector.Reconnector[S]
	// Retry spaces the redeliveries of batches that failed to store;
	// used by the serve goroutine only.
	Retry conntrack.Backoff
}

// Init sets up source name of type typ; newRun returns its reconnect
// loop, reporting to conn.
func (s *Source[S]) Init(typ, name string, deps connector.Deps, newRun func(conn *conntrack.Conn) (*connector.Reconnector[S], error)) error {
	if deps.Metrics == nil {
		deps.Metrics = telemetry.NewMetrics()
	}
	s.Base.Init(name, typ, deps)
	run, err := newRun(s.Conn)
	if err != nil {
		return err
	}
	s.run, s.Log = run, run.Log
	s.Retry = conntrack.Backoff{Min: 200 * time.Millisecond, Max: 5 * time.Second}
	return nil
}

// Start implements connector.Source.
func (s *Source[S]) Start(ctx context.Context) error { return s.run.Start(ctx) }

// Stop implements connector.Source.
func (s *Source[S]) Stop(ctx context.Context) error { return s.run.Stop(ctx) }
