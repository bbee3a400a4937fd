package histogram

import (
	"math"
	"math/rand/v2"
	"sync"
	"testing"
)

// within reports whether got is within the histogram's precision of want.
func within(got, want int64) bool {
	tol := math.Max(1, float64(want)/subBuckets)
	return math.Abs(float64(got-want)) <= tol
}

func TestBucketBoundsContainValue(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	check := func(v uint64) {
		i := bucketIndex(v)
		if i < 0 || i >= numBuckets {
			t.Fatalf("bucketIndex(%d) = %d, out of range", v, i)
		}
		lo, hi := bucketBounds(i)
		if v < lo || v > hi {
			t.Fatalf("value %d in bucket %d with bounds [%d, %d]", v, i, lo, hi)
		}
		if v >= subBuckets && float64(hi-lo+1) > float64(v)/subBuckets*2 {
			t.Fatalf("bucket %d too wide for %d: [%d, %d]", i, v, lo, hi)
		}
	}
	for v := uint64(0); v < 1<<16; v++ {
		check(v)
	}
	for range 20000 {
		check(r.Uint64() >> r.IntN(64))
	}
	check(math.MaxUint64)
	// Buckets tile the value range with no gap and no overlap.
	for i := 1; i < numBuckets; i++ {
		_, prevHi := bucketBounds(i - 1)
		lo, _ := bucketBounds(i)
		if lo != prevHi+1 {
			t.Fatalf("gap between buckets %d and %d: %d then %d", i-1, i, prevHi, lo)
		}
	}
}

func TestQuantilesUniform(t *testing.T) {
	var h Histogram
	const n = 100_000
	for v := int64(1); v <= n; v++ {
		h.Record(v * 100) // 100 ns .. 10 ms
	}
	want := map[float64]int64{0.5: 5_000_000, 0.9: 9_000_000, 0.99: 9_900_000, 0.999: 9_990_000, 1: 10_000_000}
	for q, w := range want {
		if got := h.Quantiles(q)[0]; !within(got, w) {
			t.Errorf("q%.3f = %d, want %d ± 0.8%%", q, got, w)
		}
	}
	if h.Count() != n || h.Max() != 100*n {
		t.Errorf("count %d max %d", h.Count(), h.Max())
	}
}

func TestQuantilesExponential(t *testing.T) {
	// Deterministic exponential sample: the inverse CDF at evenly spaced
	// probabilities, mean 1 ms. The true quantile q is -ln(1-q) ms.
	var h Histogram
	const n = 50_000
	const mean = 1e6
	for i := range n {
		p := (float64(i) + 0.5) / n
		h.Record(int64(-mean * math.Log(1-p)))
	}
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		w := int64(-mean * math.Log(1-q))
		if got := h.Quantiles(q)[0]; !within(got, w) {
			t.Errorf("q%.3f = %d, want %d ± 0.8%%", q, got, w)
		}
	}
}

func TestQuantilesBimodal(t *testing.T) {
	// 99% fast (100 µs), 1% slow (50 ms): p99 is still fast, p99.9 is slow.
	var h Histogram
	for range 9900 {
		h.Record(100_000)
	}
	for range 100 {
		h.Record(50_000_000)
	}
	q := h.Quantiles(0.5, 0.99, 0.991, 0.999)
	if !within(q[0], 100_000) || !within(q[1], 100_000) {
		t.Errorf("p50 %d p99 %d, want 100µs", q[0], q[1])
	}
	if q[2] != 50_000_000 || q[3] != 50_000_000 {
		t.Errorf("p99.1 %d p99.9 %d, want exactly 50ms (clamped to max)", q[2], q[3])
	}
}

func TestSmallValuesExact(t *testing.T) {
	var h Histogram
	for v := int64(1); v <= 100; v++ {
		h.Record(v)
	}
	q := h.Quantiles(0, 0.01, 0.5, 0.99, 1)
	want := []int64{1, 1, 50, 99, 100}
	for i := range want {
		if q[i] != want[i] {
			t.Errorf("quantiles = %v, want %v", q, want)
			break
		}
	}
}

func TestEmptyNegativeReset(t *testing.T) {
	var h Histogram
	if q := h.Quantiles(0.5, 0.99); q[0] != 0 || q[1] != 0 {
		t.Fatalf("empty quantiles = %v", q)
	}
	h.Record(-5)
	if h.Count() != 1 || h.Quantiles(1)[0] != 0 {
		t.Fatalf("negative value: count %d q100 %d", h.Count(), h.Quantiles(1)[0])
	}
	h.Record(1 << 40)
	h.Reset()
	if h.Count() != 0 || h.Max() != 0 || h.Quantiles(1)[0] != 0 {
		t.Fatalf("after reset: count %d max %d", h.Count(), h.Max())
	}
}

func TestSummaryMilliseconds(t *testing.T) {
	var h Histogram
	h.Record(2_500_000)
	s := h.Summarize()
	if s.Count != 1 || s.Max != 2.5 || math.Abs(s.P50-2.5) > 2.5/subBuckets {
		t.Fatalf("summary = %+v", s)
	}
}

func TestRecordAllocationFree(t *testing.T) {
	var h Histogram
	v := int64(0)
	if n := testing.AllocsPerRun(1000, func() { v += 7919; h.Record(v) }); n != 0 {
		t.Fatalf("Record allocates %v times", n)
	}
}

func TestConcurrentRecord(t *testing.T) {
	var h Histogram
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 10000 {
				h.Record(int64(g*10000 + i))
			}
		})
	}
	wg.Wait()
	if h.Count() != 80000 || h.Max() != 79999 {
		t.Fatalf("count %d max %d", h.Count(), h.Max())
	}
}

func BenchmarkRecord(b *testing.B) {
	var h Histogram
	for i := range b.N {
		h.Record(int64(i) * 1013)
	}
}
