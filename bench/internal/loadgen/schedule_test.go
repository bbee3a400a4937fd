package loadgen

import (
	"context"
	"sync"
	"testing"
	"time"
)

// collector is a SendFunc that remembers every job it was given.
type collector struct {
	mu   sync.Mutex
	jobs map[uint64]Job
	// hold makes the send of job 0 take this long, standing in for a
	// stalled system under test.
	hold time.Duration
}

func (c *collector) send(ctx context.Context, j Job) (int, error) {
	c.mu.Lock()
	c.jobs[j.Seq] = j
	c.mu.Unlock()
	if j.Seq == 0 && c.hold > 0 {
		time.Sleep(c.hold)
	}
	return 204, nil
}

func TestOpenLoopSendsEveryJobAtItsIntendedTime(t *testing.T) {
	c := &collector{jobs: map[uint64]Job{}}
	var rec Recorder
	s := NewSchedule(time.Now(), 2000, 25*time.Millisecond)
	if s.Count != 50 || s.Interval != 500*time.Microsecond {
		t.Fatalf("schedule = %+v, want 50 jobs 500µs apart", s)
	}
	RunOpen(context.Background(), s, 4, c.send, &rec)

	if len(c.jobs) != s.Count {
		t.Fatalf("sent %d distinct jobs, want %d", len(c.jobs), s.Count)
	}
	for seq, j := range c.jobs {
		if want := s.Start.Add(time.Duration(seq) * s.Interval); !j.Intended.Equal(want) {
			t.Fatalf("job %d intended %v, want %v", seq, j.Intended, want)
		}
	}
	res := rec.Result(s.Start)
	if res.Sent != 50 || res.OK != 50 || res.Errors != 0 || res.Non2xx != 0 {
		t.Fatalf("result = %+v", res)
	}
}

// With one worker stuck on job 0 for 40 ms, jobs 1..9 (intended within the
// first 10 ms) cannot start before 40 ms. Measured from their intended time,
// each has a latency of at least 30 ms; a generator that measured from the
// actual send (coordinated omission) would report almost nothing. Only lower
// bounds are asserted, so a slow machine cannot make this fail.
func TestOpenLoopChargesLateSendsFromIntendedTime(t *testing.T) {
	const hold = 40 * time.Millisecond
	c := &collector{jobs: map[uint64]Job{}, hold: hold}
	var rec Recorder
	s := Schedule{Start: time.Now(), Interval: time.Millisecond, Count: 10}
	RunOpen(context.Background(), s, 1, c.send, &rec)

	if rec.Latency.Count() != 10 {
		t.Fatalf("recorded %d latencies, want 10", rec.Latency.Count())
	}
	// At least 9 of 10 values are ≥ 30 ms, so the median is too.
	if p50 := time.Duration(rec.Latency.Quantiles(0.5)[0]); p50 < hold-10*time.Millisecond {
		t.Fatalf("p50 = %v, want ≥ %v: late sends not measured from intended time", p50, hold-10*time.Millisecond)
	}
	if late := rec.Result(s.Start).MaxLateMS; late < 30 {
		t.Fatalf("max lateness %.1f ms, want ≥ 30 ms", late)
	}
}

func TestOpenLoopStopsOnCancel(t *testing.T) {
	c := &collector{jobs: map[uint64]Job{}}
	var rec Recorder
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// An hour-long schedule must return at once when ctx is done.
	RunOpen(ctx, NewSchedule(time.Now().Add(time.Hour), 1000, time.Hour), 2, c.send, &rec)
	if rec.Result(time.Now()).Sent != 0 {
		t.Fatalf("sent jobs after cancel")
	}
}

func TestClosedLoopUniqueSequence(t *testing.T) {
	c := &collector{jobs: map[uint64]Job{}}
	var rec Recorder
	RunClosed(context.Background(), 4, time.Now().Add(20*time.Millisecond), c.send, &rec)
	n := rec.Result(time.Now()).Sent
	if n == 0 || uint64(len(c.jobs)) != n {
		t.Fatalf("sent %d, distinct sequence numbers %d", n, len(c.jobs))
	}
}
