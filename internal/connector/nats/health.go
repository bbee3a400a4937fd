package nats

import (
	"log/slog"
	"sync"

	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/connector/conntrack"
)

// health ties a component's status and connection metrics to connection
// events: Running while up (connected and, for sources, receiving),
// Starting with the last error while not, and nothing once stopping.
type health struct {
	tr  *component.Tracker
	m   conntrack.Series
	ch  *conntrack.Changes // connector_disconnected / connector_reconnected
	log *slog.Logger

	mu      sync.Mutex
	up      bool
	stopped bool
}

func (h *health) set(up bool, err error) {
	h.mu.Lock()
	regained := false
	defer func() {
		h.mu.Unlock()
		if regained {
			h.ch.Regained() // outside the lock: it may publish an event
		}
	}()
	if h.stopped || (up && h.up) {
		return
	}
	if up {
		h.up, regained = true, true
		h.m.Up()
		h.tr.SetDetail("connected", true)
		h.tr.Set(component.Running, nil)
		return
	}
	if h.up {
		h.up = false
		h.m.Lost()
		h.ch.Lost(err)
		h.log.Warn("connection lost", "err", err)
	}
	h.m.Down()
	h.tr.SetDetail("connected", false)
	h.tr.Set(component.Starting, err)
}

// notReady records that the component cannot work although its
// connection may be up (a JetStream consumer that cannot be set up): it
// is Starting with err, and "connected" tells the connection's state.
func (h *health) notReady(connected bool, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stopped {
		return
	}
	h.up = false
	h.m.LinkDown()
	h.tr.SetDetail("connected", connected)
	h.tr.Set(component.Starting, err)
}

// isUp reports whether the component is up.
func (h *health) isUp() bool { h.mu.Lock(); defer h.mu.Unlock(); return h.up }

// stop freezes the status at Stopping.
func (h *health) stop() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.stopped, h.up = true, false
	h.ch.Forget()
	h.m.Down()
	h.tr.SetDetail("connected", false)
	h.tr.Set(component.Stopping, nil)
}
