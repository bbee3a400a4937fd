package lifecycle

import (
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// ExpireAfter is how long a host may stay silent before the tally forgets
// it (Choria's tally uses 80 minutes: alive events come every 30).
const ExpireAfter = 80 * time.Minute

// Tally watches the lifecycle events of one component and keeps
// Prometheus metrics with the names and meanings of Choria's tally: good
// events, process errors, event types, a gauge of hosts per version,
// processing and maintenance time, expired nodes. It reads Choria's bare
// JSON, Choria's CloudEvents and the bridge's own lifecycle events. Safe
// for concurrent use.
type Tally struct {
	component string
	now       func() time.Time

	good, errors, expired *prometheus.CounterVec
	types                 *prometheus.CounterVec
	versions              *prometheus.GaugeVec
	processing, maint     *prometheus.SummaryVec

	mu    sync.Mutex
	hosts map[string]*host
}

type host struct {
	version string
	seen    time.Time
}

// NewTally registers the metrics (prefix default lifecycle_tally) in reg.
func NewTally(component, prefix string, reg prometheus.Registerer) *Tally {
	if prefix == "" {
		prefix = "lifecycle_tally"
	}
	t := &Tally{component: component, now: time.Now, hosts: map[string]*host{}}
	c := func(name, help string, labels ...string) *prometheus.CounterVec {
		v := prometheus.NewCounterVec(prometheus.CounterOpts{Name: prefix + "_" + name, Help: help}, labels)
		reg.MustRegister(v)
		return v
	}
	t.good = c("good_events", "Lifecycle events processed", "component")
	t.errors = c("process_errors", "Messages that could not be processed", "component")
	t.expired = c("nodes_expired", "Hosts forgotten after 80 minutes without an event", "component")
	t.types = c("event_types", "Lifecycle events by type", "component", "type")
	t.versions = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: prefix + "_versions", Help: "Hosts running each version"}, []string{"component", "version"})
	t.processing = prometheus.NewSummaryVec(prometheus.SummaryOpts{Name: prefix + "_processing_time", Help: "Time to process an event (seconds)"}, []string{"component"})
	t.maint = prometheus.NewSummaryVec(prometheus.SummaryOpts{Name: prefix + "_maintenance_time", Help: "Time to expire silent hosts (seconds)"}, []string{"component"})
	reg.MustRegister(t.versions, t.processing, t.maint)
	return t
}

// Process reads one message: Choria bare JSON, a CloudEvent whose data is
// Choria-format (Choria's or ours). Events of other components are
// ignored; unreadable messages count as process errors.
func (t *Tally) Process(body []byte) {
	start := t.now()
	ev, ok := parseLifecycle(body)
	if !ok {
		t.errors.WithLabelValues(t.component).Inc()
		return
	}
	if ev.Component != t.component {
		return
	}
	typ := ev.Type()
	t.good.WithLabelValues(t.component).Inc()
	t.types.WithLabelValues(t.component, typ).Inc()
	t.mu.Lock()
	h := t.hosts[ev.Identity]
	switch typ {
	case Startup, Alive:
		if h == nil {
			h = &host{}
			t.hosts[ev.Identity] = h
		}
		if h.version != ev.Version {
			if h.version != "" {
				t.versions.WithLabelValues(t.component, h.version).Dec()
			}
			h.version = ev.Version
			t.versions.WithLabelValues(t.component, h.version).Inc()
		}
		h.seen = t.now()
	case Shutdown:
		if h != nil {
			t.versions.WithLabelValues(t.component, h.version).Dec()
			delete(t.hosts, ev.Identity)
		}
	default:
		if h != nil {
			h.seen = t.now()
		}
	}
	t.mu.Unlock()
	t.processing.WithLabelValues(t.component).Observe(t.now().Sub(start).Seconds())
}

// Expire forgets hosts silent for longer than ExpireAfter.
func (t *Tally) Expire() {
	start := t.now()
	t.mu.Lock()
	for id, h := range t.hosts {
		if start.Sub(h.seen) > ExpireAfter {
			t.versions.WithLabelValues(t.component, h.version).Dec()
			delete(t.hosts, id)
			t.expired.WithLabelValues(t.component).Inc()
		}
	}
	t.mu.Unlock()
	t.maint.WithLabelValues(t.component).Observe(t.now().Sub(start).Seconds())
}

// Hosts returns the number of hosts tracked.
func (t *Tally) Hosts() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.hosts)
}

// parseLifecycle finds the Choria-format object in a message.
func parseLifecycle(body []byte) (ChoriaEvent, bool) {
	var m struct {
		ChoriaEvent
		SpecVersion string          `json:"specversion"`
		Data        json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		return ChoriaEvent{}, false
	}
	ev := m.ChoriaEvent
	if m.SpecVersion != "" {
		if err := json.Unmarshal(m.Data, &ev); err != nil {
			return ChoriaEvent{}, false
		}
	}
	if ev.Identity == "" || ev.Type() == "" || !(strings.HasPrefix(ev.Protocol, "io.choria.lifecycle") ||
		strings.HasPrefix(ev.Protocol, "choria:lifecycle:") || strings.HasPrefix(ev.Protocol, TypePrefix)) {
		return ChoriaEvent{}, false
	}
	return ev, true
}
