package sink

import "time"

// Stats is the sink's report, served as JSON on GET /stats. Latencies are
// end to end (arrival minus the event's time attribute) in milliseconds.
type Stats struct {
	Count      uint64 `json:"count"`      // events received
	Duplicates uint64 `json:"duplicates"` // events whose (source, id) had been seen
	NoTime     uint64 `json:"no_time"`    // events without a parsable time
	// Stale counts events not counted because their id lacked the prefix
	// given to ResetFor: late events of an earlier run.
	Stale uint64 `json:"stale,omitempty"`
	Unit  string `json:"unit"` // always "ms"

	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
	Max  float64 `json:"max"`

	// FirstUnixNano and LastUnixNano are the arrival times of the first
	// and latest events (0 when none).
	FirstUnixNano int64 `json:"first_unix_nano"`
	LastUnixNano  int64 `json:"last_unix_nano"`
}

// Stats returns a snapshot of what was recorded since the last reset.
func (s *Sink) Stats() Stats {
	sum := s.latency.Summarize()
	return Stats{
		Count:         s.count.Load(),
		Duplicates:    s.dups.Load(),
		NoTime:        s.noTime.Load(),
		Stale:         s.stale.Load(),
		Unit:          "ms",
		P50:           sum.P50,
		P90:           sum.P90,
		P99:           sum.P99,
		P999:          sum.P999,
		Max:           sum.Max,
		FirstUnixNano: s.first.Load(),
		LastUnixNano:  s.last.Load(),
	}
}

// Count returns the number of events received, duplicates included: the
// cheap part of Stats.
func (s *Sink) Count() uint64 { return s.count.Load() }

// Unique returns the number of distinct events received.
func (st Stats) Unique() uint64 { return st.Count - st.Duplicates }

// Span returns the time between the first and the latest arrival.
func (st Stats) Span() time.Duration {
	if st.FirstUnixNano == 0 {
		return 0
	}
	return time.Duration(st.LastUnixNano - st.FirstUnixNano)
}

// Rate returns the delivered rate in events per second over Span, or 0 when
// fewer than two events arrived.
func (st Stats) Rate() float64 {
	if st.Count < 2 || st.Span() <= 0 {
		return 0
	}
	return float64(st.Count-1) / st.Span().Seconds()
}
