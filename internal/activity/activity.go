// Package activity keeps the last minutes of the bridge's main counters in
// memory, for the console's overview: events in, matched, delivered,
// retried and dead-lettered, per source, rule and target, in one-minute
// buckets. It samples cumulative counters (the Prometheus metrics) at a
// fixed interval and answers with the differences; nothing is stored.
package activity

import (
	"sort"
	"strings"
	"sync"
	"time"
)

// Sample is a reading of cumulative counters, keyed "group/name/counter"
// (for example "rule/orders/delivered"; the group "total" has the name "*").
type Sample map[string]float64

// Key builds a Sample key.
func Key(group, name, counter string) string { return group + "/" + name + "/" + counter }

// Recorder samples counters every Every and keeps Window of samples.
type Recorder struct {
	read   func() Sample
	every  time.Duration
	window time.Duration
	now    func() time.Time

	mu      sync.Mutex
	samples []snapshot // oldest first
}

type snapshot struct {
	at time.Time
	v  Sample
}

// New returns a recorder that reads counters with read. It takes its first
// sample at once, as the baseline.
func New(read func() Sample, every, window time.Duration) *Recorder {
	r := &Recorder{read: read, every: every, window: window, now: time.Now}
	r.Sample()
	return r
}

// Run samples until stop is closed.
func (r *Recorder) Run(stop <-chan struct{}) {
	t := time.NewTicker(r.every)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			r.Sample()
		}
	}
}

// Sample takes one sample now and drops those older than the window
// (keeping one older sample as the window's baseline).
func (r *Recorder) Sample() {
	s := snapshot{at: r.now(), v: r.read()}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.samples = append(r.samples, s)
	cut := s.at.Add(-r.window - r.every)
	i := 0
	for i < len(r.samples)-1 && r.samples[i+1].at.Before(cut) {
		i++
	}
	r.samples = r.samples[i:]
}

// Series are counters' values per bucket, oldest first.
type Series map[string][]float64

// Report is the activity of the last minutes.
type Report struct {
	// Start is the start of the first bucket; End is now.
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// BucketSeconds is the width of a bucket.
	BucketSeconds int `json:"bucket_seconds"`
	// Totals are the whole bridge's counters: in (events stored), matched,
	// delivered, retried, dead_lettered.
	Totals Series `json:"totals"`
	// Sources (in), Rules (matched, delivered, retried, dead_lettered) and
	// Targets (delivered, retried, dead_lettered), by name.
	Sources map[string]Series `json:"sources"`
	Rules   map[string]Series `json:"rules"`
	Targets map[string]Series `json:"targets"`
	// Streams is the bus's size now, per stream (filled by the bridge).
	Streams map[string]Stream `json:"streams,omitempty"`
}

// Stream is the size of one bus stream.
type Stream struct {
	Messages float64 `json:"messages"`
	Bytes    float64 `json:"bytes"`
}

// Report answers with buckets of width each, the last ending now. The
// current values are read now; the older bucket edges use the latest
// sample taken at or before them.
func (r *Recorder) Report(buckets int, width time.Duration) Report {
	now := r.now()
	cur := r.read()
	r.mu.Lock()
	samples := append([]snapshot(nil), r.samples...)
	r.mu.Unlock()
	start := now.Add(-time.Duration(buckets) * width)
	rep := Report{Start: start.UTC(), End: now.UTC(), BucketSeconds: int(width / time.Second),
		Totals: Series{}, Sources: map[string]Series{}, Rules: map[string]Series{}, Targets: map[string]Series{}}
	// at returns the sample for an edge: the latest at or before t; before
	// the first sample, the first (so time before the bridge started
	// counts nothing).
	at := func(t time.Time) Sample {
		if !t.Before(now) {
			return cur
		}
		i := sort.Search(len(samples), func(i int) bool { return samples[i].at.After(t) })
		if i == 0 {
			if len(samples) == 0 {
				return cur
			}
			return samples[0].v
		}
		return samples[i-1].v
	}
	edges := make([]Sample, buckets+1)
	for i := range edges {
		edges[i] = at(start.Add(time.Duration(i) * width))
	}
	for key := range cur {
		group, rest, ok := strings.Cut(key, "/")
		if !ok {
			continue
		}
		i := strings.LastIndexByte(rest, '/')
		if i < 0 {
			continue
		}
		name, counter := rest[:i], rest[i+1:]
		var dst Series
		switch group {
		case "total":
			dst = rep.Totals
		case "source", "rule", "target":
			m := map[string]map[string]Series{"source": rep.Sources, "rule": rep.Rules, "target": rep.Targets}[group]
			if m[name] == nil {
				m[name] = Series{}
			}
			dst = m[name]
		default:
			continue
		}
		vals := make([]float64, buckets)
		for b := range buckets {
			d := edges[b+1][key] - edges[b][key]
			if d < 0 { // a counter that went away and came back
				d = 0
			}
			vals[b] = d
		}
		dst[counter] = vals
	}
	return rep
}
