// Package loadgen drives HTTP load in two shapes: an open-loop schedule of
// intended send times (fixed rate, no coordinated omission) and a closed
// loop of N clients sending as fast as they can (saturation).
//
// In the open loop every job carries the time it was meant to be sent; its
// latency is measured from that time, so a send that starts late because the
// system under test stalled is charged for the whole wait, as a real client
// arriving on schedule would be.
package loadgen

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Job is one send: its sequence number in the run and its intended send time.
type Job struct {
	Seq      uint64
	Intended time.Time
}

// SendFunc performs one job and returns the response status (0 on error).
// It is called from many goroutines at once; it should return when ctx is
// done.
type SendFunc func(ctx context.Context, j Job) (status int, err error)

// Schedule is a fixed-rate plan: Count jobs, job i intended at
// Start + i·Interval.
type Schedule struct {
	Start    time.Time
	Interval time.Duration
	Count    int
}

// NewSchedule plans rate jobs per second for d, starting at start.
func NewSchedule(start time.Time, rate float64, d time.Duration) Schedule {
	return Schedule{
		Start:    start,
		Interval: time.Duration(float64(time.Second) / rate),
		Count:    int(rate * d.Seconds()),
	}
}

// Intended returns job i's intended send time.
func (s Schedule) Intended(i int) time.Time {
	return s.Start.Add(time.Duration(i) * s.Interval)
}

// RunOpen sends the schedule's jobs from a pool of workers. A dispatcher
// hands each job to the pool at its intended time; when it falls behind
// (every worker busy) it hands the overdue jobs over as soon as workers free
// up, without skipping any, and each job's latency still counts from its
// intended time. RunOpen returns when every dispatched job has finished;
// cancelling ctx stops dispatching and is passed to the sends.
func RunOpen(ctx context.Context, s Schedule, workers int, send SendFunc, rec *Recorder) {
	jobs := make(chan Job, workers)
	var wg sync.WaitGroup
	for range max(workers, 1) {
		wg.Go(func() {
			for j := range jobs {
				began := time.Now()
				status, err := send(ctx, j)
				rec.Done(j, began, time.Now(), status, err)
			}
		})
	}
	// The dispatcher runs in a goroutine of its own: the pacer may take
	// over its OS thread.
	done := make(chan struct{})
	go func() {
		defer close(done)
		dispatch(ctx, s, jobs)
	}()
	<-done
	close(jobs)
	wg.Wait()
}

// dispatch feeds jobs in schedule order, waiting for each one's intended time.
func dispatch(ctx context.Context, s Schedule, jobs chan<- Job) {
	p := newPacer()
	defer p.stop()
	for i := range s.Count {
		j := Job{Seq: uint64(i), Intended: s.Intended(i)}
		if !p.wait(ctx, j.Intended) {
			return
		}
		select {
		case jobs <- j:
		case <-ctx.Done():
			return
		}
	}
}

// RunClosed runs clients loops that each send the next job as soon as the
// previous one finished, until the deadline passes or ctx is done. A job's
// intended time is the moment it is created.
func RunClosed(ctx context.Context, clients int, until time.Time, send SendFunc, rec *Recorder) {
	var seq atomic.Uint64
	var wg sync.WaitGroup
	for range max(clients, 1) {
		wg.Go(func() {
			for ctx.Err() == nil {
				now := time.Now()
				if !now.Before(until) {
					return
				}
				j := Job{Seq: seq.Add(1) - 1, Intended: now}
				status, err := send(ctx, j)
				rec.Done(j, now, time.Now(), status, err)
			}
		})
	}
	wg.Wait()
}

// Plan is one load run: Mode "fixed" (Rate events/s from Concurrency
// workers, open loop) or "saturation" (Concurrency clients, closed loop),
// for Duration.
type Plan struct {
	Mode        string
	Rate        float64
	Duration    time.Duration
	Concurrency int
}

// Run drives send by the plan and returns the result, its URL left empty.
func Run(ctx context.Context, p Plan, send SendFunc) Result {
	var rec Recorder
	start := time.Now()
	if p.Mode == "fixed" {
		RunOpen(ctx, NewSchedule(start, p.Rate, p.Duration), p.Concurrency, send, &rec)
	} else {
		RunClosed(ctx, p.Concurrency, start.Add(p.Duration), send, &rec)
	}
	res := rec.Result(start)
	res.Mode, res.Concurrency = p.Mode, p.Concurrency
	if p.Mode == "fixed" {
		res.Rate = p.Rate
	}
	return res
}
