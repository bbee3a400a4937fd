package jobs

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	runs     *prometheus.CounterVec   // job, result (ok|error|cancelled)
	duration *prometheus.HistogramVec // job
	items    *prometheus.CounterVec   // job
	skipped  *prometheus.CounterVec   // job: occurrences dropped because the job was still busy
	leader   *prometheus.GaugeVec     // job: 1 while this instance holds the lease
}

// newMetrics makes the scheduler's metrics and registers them with reg
// (when not nil), with gauges of the workers and the queue.
func newMetrics(m *Manager, reg prometheus.Registerer) *metrics {
	mt := &metrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "eventbridge_job_runs_total",
			Help: "Runs of a job by result (ok, error, cancelled)."}, []string{"job", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "eventbridge_job_run_seconds",
			Help: "Duration of a job's runs.", Buckets: prometheus.ExponentialBuckets(0.001, 4, 10)}, []string{"job"}),
		items: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "eventbridge_job_items_total",
			Help: "Items (events) a job's runs emitted."}, []string{"job"}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "eventbridge_job_skipped_total",
			Help: "Occurrences of a job dropped because a run of it was still queued or in progress."}, []string{"job"}),
		leader: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "eventbridge_job_lease_held",
			Help: "1 while this instance holds a job's lease (and so runs it)."}, []string{"job"}),
	}
	if reg == nil {
		return mt
	}
	busy := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "eventbridge_jobs_workers_busy",
		Help: "Workers of the job scheduler running a job."}, func() float64 {
		m.mu.Lock()
		defer m.mu.Unlock()
		return float64(m.busy)
	})
	queue := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "eventbridge_jobs_queue",
		Help: "Runs of jobs waiting for a worker."}, func() float64 {
		m.mu.Lock()
		defer m.mu.Unlock()
		return float64(len(m.queue))
	})
	for _, c := range []prometheus.Collector{mt.runs, mt.duration, mt.items, mt.skipped, mt.leader, busy, queue} {
		_ = reg.Register(c)
	}
	return mt
}

func (mt *metrics) observe(job string, items int, took time.Duration, err error, cancelled bool) {
	result := ResultOK
	switch {
	case cancelled:
		result = "cancelled"
	case err != nil:
		result = ResultError
	}
	mt.runs.WithLabelValues(job, result).Inc()
	mt.duration.WithLabelValues(job).Observe(took.Seconds())
	if items > 0 {
		mt.items.WithLabelValues(job).Add(float64(items))
	}
}

// forget drops a removed job's series.
func (mt *metrics) forget(job string) {
	l := prometheus.Labels{"job": job}
	mt.runs.DeletePartialMatch(l)
	mt.duration.DeletePartialMatch(l)
	mt.items.DeletePartialMatch(l)
	mt.skipped.DeletePartialMatch(l)
	mt.leader.DeletePartialMatch(l)
}
