package telemetry

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// LazyCounter is the series of one label value of a CounterVec, made on
// first use: a rule that never matches has no series, and costs a few
// words instead (10,000 idle rules). Set it up with Init.
type LazyCounter struct {
	vec   *prometheus.CounterVec
	label string
	once  sync.Once
	c     prometheus.Counter
}

var _ prometheus.Counter = (*LazyCounter)(nil)

// Init makes l the lazy series of vec (a vector with one label) for the
// label value label. Call it before any other method.
func (l *LazyCounter) Init(vec *prometheus.CounterVec, label string) {
	l.vec, l.label = vec, label
}

func (l *LazyCounter) get() prometheus.Counter {
	l.once.Do(func() { l.c = l.vec.WithLabelValues(l.label) })
	return l.c
}

// Inc adds 1, making the series if needed.
func (l *LazyCounter) Inc() { l.get().Inc() }

// Add adds v, making the series if needed.
func (l *LazyCounter) Add(v float64) { l.get().Add(v) }

// Desc, Write, Describe and Collect make the series and delegate to it
// (prometheus.Counter); the registry reads the vector, not these.
func (l *LazyCounter) Desc() *prometheus.Desc              { return l.get().Desc() }
func (l *LazyCounter) Write(m *dto.Metric) error           { return l.get().Write(m) }
func (l *LazyCounter) Describe(ch chan<- *prometheus.Desc) { l.get().Describe(ch) }
func (l *LazyCounter) Collect(ch chan<- prometheus.Metric) { l.get().Collect(ch) }
