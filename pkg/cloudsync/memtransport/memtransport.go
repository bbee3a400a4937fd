// Package memtransport is an in-memory cloudsync.Transport for tests: a
// Broker routes the events of source transports to the agent transports
// of the event's cluster and those of agent transports to the source of
// the event's originalsource (the empty value reaches all), as the MQTT
// topic layout does. Faults can be injected: Fail breaks a connection,
// SetDown refuses connects.
package memtransport

import (
	"context"
	"errors"
	"sync"

	cloudevents "github.com/cloudevents/sdk-go/v2"

	"github.com/eventbridge-dev/eventbridge/pkg/cloudsync"
)

// ErrDown is returned by Connect while the broker is down.
var ErrDown = errors.New("memtransport: broker is down")

// ErrNotConnected is returned by Send and Subscribe on a transport that
// is not connected.
var ErrNotConnected = errors.New("memtransport: not connected")

// Broker connects in-memory transports.
type Broker struct {
	mu    sync.Mutex
	down  bool
	ports []*Transport
	sent  []cloudevents.Event
}

// NewBroker returns a broker that is up.
func NewBroker() *Broker { return &Broker{} }

// Source returns a transport for the source sourceID.
func (b *Broker) Source(sourceID string) *Transport {
	return b.add(&Transport{b: b, role: cloudsync.RoleSource, id: sourceID})
}

// Agent returns a transport for an agent of clusterName.
func (b *Broker) Agent(clusterName string) *Transport {
	return b.add(&Transport{b: b, role: cloudsync.RoleAgent, id: clusterName})
}

func (b *Broker) add(t *Transport) *Transport {
	t.errs = make(chan error, 1)
	b.mu.Lock()
	b.ports = append(b.ports, t)
	b.mu.Unlock()
	return t
}

// SetDown makes Connect fail (down) or succeed again; going down also
// breaks every connection, as a broker restart does.
func (b *Broker) SetDown(down bool) {
	b.mu.Lock()
	b.down = down
	ports := append([]*Transport(nil), b.ports...)
	b.mu.Unlock()
	if down {
		for _, t := range ports {
			t.Fail(ErrDown)
		}
	}
}

// Sent returns copies of every event sent through the broker, in order.
func (b *Broker) Sent() []cloudevents.Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]cloudevents.Event, len(b.sent))
	for i, e := range b.sent {
		out[i] = e.Clone()
	}
	return out
}

func (b *Broker) route(from *Transport, evt cloudevents.Event) {
	b.mu.Lock()
	b.sent = append(b.sent, evt.Clone())
	ports := append([]*Transport(nil), b.ports...)
	b.mu.Unlock()
	for _, t := range ports {
		if t == from || t.role == from.role {
			continue
		}
		switch from.role {
		case cloudsync.RoleSource:
			if cl := cloudsync.ExtString(&evt, cloudsync.ExtClusterName); cl != cloudsync.ClusterAll && cl != t.id {
				continue
			}
		case cloudsync.RoleAgent:
			if src := cloudsync.ExtString(&evt, cloudsync.ExtOriginalSource); src != cloudsync.SourceAll && src != t.id {
				continue
			}
		}
		t.deliver(evt.Clone())
	}
}

// Transport is one client's connection to a Broker.
type Transport struct {
	b    *Broker
	role cloudsync.Role
	id   string
	errs chan error

	mu         sync.Mutex
	connected  bool
	subscribed bool
	gen        int
	queue      []cloudevents.Event
	wake       chan struct{} // closed and replaced on every change
	connects   int
}

func (t *Transport) signal() {
	if t.wake != nil {
		close(t.wake)
	}
	t.wake = make(chan struct{})
}

// Connect connects, unless the broker is down.
func (t *Transport) Connect(ctx context.Context) error {
	t.b.mu.Lock()
	down := t.b.down
	t.b.mu.Unlock()
	if down {
		return ErrDown
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.connected, t.subscribed = true, false
	t.gen++
	t.connects++
	t.queue = nil
	t.signal()
	return nil
}

// Connects returns how many times Connect succeeded.
func (t *Transport) Connects() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.connects
}

// Send routes evt to the peers.
func (t *Transport) Send(ctx context.Context, evt cloudevents.Event) error {
	t.mu.Lock()
	ok := t.connected
	t.mu.Unlock()
	if !ok {
		return ErrNotConnected
	}
	if err := evt.Validate(); err != nil {
		return err
	}
	t.b.route(t, evt)
	return nil
}

func (t *Transport) deliver(evt cloudevents.Event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.connected || !t.subscribed {
		return
	}
	t.queue = append(t.queue, evt)
	t.signal()
}

// Subscribe starts receiving the events routed to this transport.
func (t *Transport) Subscribe(ctx context.Context) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.connected {
		return ErrNotConnected
	}
	t.subscribed = true
	return nil
}

// Receive calls fn for every event until ctx is done or the connection
// ends.
func (t *Transport) Receive(ctx context.Context, fn func(ctx context.Context, evt cloudevents.Event)) error {
	t.mu.Lock()
	gen := t.gen
	if t.wake == nil {
		t.signal()
	}
	t.mu.Unlock()
	for {
		t.mu.Lock()
		if !t.connected || t.gen != gen {
			t.mu.Unlock()
			return nil // Fail reported it on ErrorChan
		}
		if len(t.queue) > 0 {
			evt := t.queue[0]
			t.queue = t.queue[1:]
			t.mu.Unlock()
			fn(ctx, evt)
			continue
		}
		wake := t.wake
		t.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil
		case <-wake:
		}
	}
}

// ErrorChan reports broken connections.
func (t *Transport) ErrorChan() <-chan error { return t.errs }

// Fail breaks the connection: Receive returns, queued events are lost and
// err is reported on ErrorChan.
func (t *Transport) Fail(err error) {
	t.mu.Lock()
	was := t.connected
	t.connected, t.subscribed = false, false
	t.queue = nil
	t.signal()
	t.mu.Unlock()
	if was {
		select {
		case t.errs <- err:
		default:
		}
	}
}

// Close disconnects.
func (t *Transport) Close(ctx context.Context) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.connected, t.subscribed = false, false
	t.queue = nil
	t.signal()
	return nil
}

var _ cloudsync.Transport = (*Transport)(nil)
