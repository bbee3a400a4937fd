package loadgen

import (
	"sync/atomic"
	"time"

	"github.com/eventbridge-dev/eventbridge/bench/internal/histogram"
)

// Recorder tallies finished jobs. It is safe for concurrent use.
type Recorder struct {
	// Latency holds each job's latency, from its intended time to the end
	// of its response, in nanoseconds.
	Latency histogram.Histogram

	sent, ok, non2xx, errs atomic.Uint64
	maxLate                atomic.Int64 // largest began − intended, ns
	lastDone               atomic.Int64 // unix ns of the latest completion

	firstErr atomic.Pointer[string]
}

// Done records one finished job: when it began and finished, and its outcome.
func (r *Recorder) Done(j Job, began, done time.Time, status int, err error) {
	r.sent.Add(1)
	r.Latency.Record(int64(done.Sub(j.Intended)))
	switch {
	case err != nil:
		r.errs.Add(1)
		msg := err.Error()
		r.firstErr.CompareAndSwap(nil, &msg)
	case status >= 200 && status < 300:
		r.ok.Add(1)
	default:
		r.non2xx.Add(1)
	}
	atomicMax(&r.maxLate, int64(began.Sub(j.Intended)))
	atomicMax(&r.lastDone, done.UnixNano())
}

func atomicMax(a *atomic.Int64, v int64) {
	for {
		m := a.Load()
		if v <= m || a.CompareAndSwap(m, v) {
			return
		}
	}
}

// Result is what a load run reports, as JSON.
type Result struct {
	Mode        string  `json:"mode"` // "fixed" or "saturation"
	URL         string  `json:"url"`
	Rate        float64 `json:"rate,omitempty"` // requested events/s (fixed)
	Concurrency int     `json:"concurrency"`    // clients or workers
	ElapsedSec  float64 `json:"elapsed_s"`      // start to last response
	Sent        uint64  `json:"sent"`
	OK          uint64  `json:"ok"` // 2xx responses
	Non2xx      uint64  `json:"non_2xx"`
	Errors      uint64  `json:"errors"` // transport errors and timeouts
	FirstError  string  `json:"first_error,omitempty"`
	// AchievedRate is sent/elapsed; OKRate is ok/elapsed.
	AchievedRate float64 `json:"achieved_rate"`
	OKRate       float64 `json:"ok_rate"`
	// Latency is from intended send time to response, in milliseconds.
	Latency histogram.Summary `json:"latency_ms"`
	// MaxLateMS is the worst delay between a job's intended time and the
	// moment a worker started it: how far the generator fell behind.
	MaxLateMS float64 `json:"max_late_ms"`
}

// Result digests the recorder for a run that started at start.
func (r *Recorder) Result(start time.Time) Result {
	res := Result{
		Sent:      r.sent.Load(),
		OK:        r.ok.Load(),
		Non2xx:    r.non2xx.Load(),
		Errors:    r.errs.Load(),
		Latency:   r.Latency.Summarize(),
		MaxLateMS: float64(max(r.maxLate.Load(), 0)) / 1e6,
	}
	if msg := r.firstErr.Load(); msg != nil {
		res.FirstError = *msg
	}
	if last := r.lastDone.Load(); last > 0 {
		res.ElapsedSec = time.Unix(0, last).Sub(start).Seconds()
	}
	if res.ElapsedSec > 0 {
		res.AchievedRate = float64(res.Sent) / res.ElapsedSec
		res.OKRate = float64(res.OK) / res.ElapsedSec
	}
	return res
}
