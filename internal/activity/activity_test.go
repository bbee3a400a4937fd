package activity

import (
	"slices"
	"testing"
	"time"
)

// TestReportBuckets: each bucket holds what the counters gained in its
// minute; time before the first sample counts nothing; the last bucket
// ends with the values read now.
func TestReportBuckets(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	val := 0.0
	r := &Recorder{read: func() Sample {
		return Sample{Key("rule", "r", "delivered"): val, Key("total", "*", "delivered"): val}
	}, every: 10 * time.Second, window: 3 * time.Minute, now: func() time.Time { return now }}
	r.Sample() // baseline at 12:00:00, value 0
	step := func(d time.Duration, add float64) {
		now = now.Add(d)
		val += add
		r.Sample()
	}
	step(30*time.Second, 5) // 12:00:30: 5
	step(60*time.Second, 3) // 12:01:30: 8
	step(60*time.Second, 1) // 12:02:30: 9
	now = now.Add(20 * time.Second)
	val += 2 // read live at 12:02:50: 11
	rep := r.Report(3, time.Minute)
	// Buckets: [11:59:50, 12:00:50) [12:00:50, 12:01:50) [12:01:50, 12:02:50]
	want := []float64{5, 3, 3}
	if got := rep.Rules["r"]["delivered"]; !slices.Equal(got, want) {
		t.Errorf("rule buckets %v, want %v", got, want)
	}
	if got := rep.Totals["delivered"]; !slices.Equal(got, want) {
		t.Errorf("totals %v, want %v", got, want)
	}
	if rep.BucketSeconds != 60 || !rep.End.Equal(now) || !rep.Start.Equal(now.Add(-3*time.Minute)) {
		t.Errorf("report frame %+v", rep)
	}
	// Old samples are dropped, one kept as the window's baseline.
	for range 40 {
		step(10*time.Second, 0)
	}
	if n := len(r.samples); n > int((3*time.Minute+10*time.Second)/(10*time.Second))+2 {
		t.Errorf("%d samples kept", n)
	}
}
