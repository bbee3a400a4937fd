package nats

import (
	"fmt"
	"log/slog"
	"sync"

	"github.com/nats-io/nats.go"

	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/conntrack"
	"github.com/eventbridge-dev/eventbridge/internal/connector/intake"
	"github.com/eventbridge-dev/eventbridge/internal/netguard"
)

// sourceBase is what the core NATS and JetStream sources share: the
// receiver and health of source name, and its connection.
type sourceBase struct {
	name string
	log  *slog.Logger
	// guard holds the connections of a source created through the API.
	guard *netguard.Guard
	recv  receiver
	h     health

	nc *nats.Conn
	wg sync.WaitGroup

	component.Tracker
}

// init sets up source name of type typ (nats or jetstream), storing
// through cfg; retry is the receiver's.
func (b *sourceBase) init(name, typ string, cfg *IntakeConfig, deps connector.Deps, retry bool) {
	b.name, b.log, b.guard = name, deps.Log("source", name, "type", typ), deps.Guard
	m := conntrack.NewSeries(deps.Metrics, name, typ, "receiver")
	note := "the broker redelivers them, as nothing is acknowledged before it is stored"
	if retry {
		note = intake.DefaultFailuresNote
	}
	b.recv = receiver{name: name, cfg: cfg, deps: deps, log: b.log, m: m, retry: retry, fails: intake.NewFailures(b.log, note)}
	b.h = health{tr: &b.Tracker, m: m, ch: conntrack.NewChanges(deps.Metrics, name, typ), log: b.log}
	b.Set(component.New, nil)
}

// connect opens the receiver for up to high messages and connects,
// reporting the connection to connState: how Start begins.
func (b *sourceBase) connect(cfg *ConnConfig, high int, connState func(up bool, err error)) error {
	b.Set(component.Starting, nil)
	b.SetDetail("connected", false)
	b.recv.open(high)
	nc, err := dial(cfg, b.guard, "source "+b.name, b.log, connState)
	if err != nil {
		b.recv.cancel()
		b.Set(component.Failed, err)
		return fmt.Errorf("source %s: %w", b.name, err)
	}
	b.nc = nc
	return nil
}

// fail ends a Start that failed after connect: it closes the connection
// and the receiver, and the source is Failed with err; msg is the error
// Start returns.
func (b *sourceBase) fail(err, msg error) error {
	b.nc.Close()
	b.recv.cancel()
	b.Set(component.Failed, err)
	return msg
}
