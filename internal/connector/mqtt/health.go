package mqtt

import (
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/connector/conntrack"
)

// connHealth turns what a link reports into a source's or a target's
// component state, metrics and log lines. While another client takes the
// client id the component is starting, with the take-over as its last
// error and the detail client_id_taken_over, and the connections it
// loses, one per reconnect, are not logged one by one.
type connHealth struct {
	tr  *component.Tracker
	m   conntrack.Series
	ch  *conntrack.Changes // connector_disconnected / connector_reconnected
	log *slog.Logger

	mu        sync.Mutex
	stopped   bool
	up        atomic.Bool
	takenOver error // non-nil while the client id is taken over
}

func (h *connHealth) state(up bool, err error) {
	h.mu.Lock()
	regained := false
	defer func() {
		h.mu.Unlock()
		if regained {
			h.ch.Regained() // outside the lock: it may publish an event
		}
	}()
	if h.stopped {
		return
	}
	if up {
		h.up.Store(true)
		h.m.Up()
		h.tr.SetDetail("connected", true)
		if h.takenOver != nil {
			// Each reconnect of a taken-over client id is no
			// reconnection: the loss lasts until the take-over ends.
			h.tr.Set(component.Starting, h.takenOver)
		} else {
			regained = true
			h.tr.Set(component.Running, nil)
		}
		return
	}
	if h.up.Swap(false) {
		h.m.Lost()
		h.ch.Lost(err)
		if h.takenOver == nil {
			h.log.Warn("connection lost", "err", err)
		}
	}
	h.m.Down()
	h.tr.SetDetail("connected", false)
	if h.takenOver != nil {
		err = h.takenOver
	}
	h.tr.Set(component.Starting, err)
}

func (h *connHealth) takeover(taken bool, err error) {
	h.mu.Lock()
	regained := false
	defer func() {
		h.mu.Unlock()
		if regained {
			h.ch.Regained()
		}
	}()
	if h.stopped {
		return
	}
	h.tr.SetDetail("client_id_taken_over", taken)
	if taken {
		h.takenOver = err
		h.tr.Set(component.Starting, err)
		return
	}
	h.takenOver = nil
	if h.up.Load() {
		regained = true
		h.tr.Set(component.Running, nil)
	}
}

// stop ends the reports: the component is stopping.
func (h *connHealth) stop() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.stopped = true
	h.ch.Forget()
}

// closed records the link closed.
func (h *connHealth) closed() {
	h.up.Store(false)
	h.m.Down()
	h.tr.SetDetail("connected", false)
}
