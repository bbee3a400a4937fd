// Package histogram is a small log-linear latency histogram in the style of
// HdrHistogram: values below 2^SubBucketBits are counted exactly, larger ones
// in buckets whose width is 1/2^SubBucketBits of their magnitude, so every
// recorded value is known to within 0.8%.
//
// Record is allocation-free and lock-free (one atomic add per bucket), so
// many goroutines can record into one Histogram while another reads it.
package histogram

import (
	"math"
	"math/bits"
	"sync/atomic"
)

// SubBucketBits sets the precision: each power-of-two range of values is
// split into 2^SubBucketBits linear buckets (relative error < 2^-SubBucketBits).
const SubBucketBits = 7

const (
	subBuckets = 1 << SubBucketBits
	// numBuckets covers the whole uint64 range: subBuckets exact values,
	// then subBuckets buckets for each exponent from SubBucketBits to 63.
	numBuckets = (64 - SubBucketBits + 1) * subBuckets
)

// Histogram counts non-negative integer values (nanoseconds, by convention).
// The zero value is ready to use. A Histogram is safe for concurrent use;
// it must not be copied after first use.
type Histogram struct {
	counts [numBuckets]atomic.Uint64
	total  atomic.Uint64
	max    atomic.Uint64
}

// bucketIndex returns the bucket that counts v.
func bucketIndex(v uint64) int {
	if v < subBuckets {
		return int(v)
	}
	e := bits.Len64(v) - 1 // v is in [2^e, 2^(e+1)), e >= SubBucketBits
	shift := e - SubBucketBits
	sub := int(v>>shift) - subBuckets // in [0, subBuckets)
	return (shift+1)*subBuckets + sub
}

// bucketBounds returns the smallest and largest value counted by bucket i.
func bucketBounds(i int) (lo, hi uint64) {
	if i < subBuckets {
		return uint64(i), uint64(i)
	}
	shift := i/subBuckets - 1
	sub := uint64(i % subBuckets)
	lo = (subBuckets + sub) << shift
	return lo, lo + (1 << shift) - 1
}

// Record counts one value. Negative values count as 0 (a clock that stepped
// backwards should not vanish from the count).
func (h *Histogram) Record(v int64) {
	if v < 0 {
		v = 0
	}
	u := uint64(v)
	h.counts[bucketIndex(u)].Add(1)
	h.total.Add(1)
	for {
		m := h.max.Load()
		if u <= m || h.max.CompareAndSwap(m, u) {
			return
		}
	}
}

// Count returns the number of recorded values.
func (h *Histogram) Count() uint64 { return h.total.Load() }

// Max returns the largest recorded value, exactly (0 when empty).
func (h *Histogram) Max() int64 { return int64(h.max.Load()) }

// Reset forgets every value. Values recorded while Reset runs may be partly
// kept; callers reset between measurement phases, when nothing records.
func (h *Histogram) Reset() {
	for i := range h.counts {
		h.counts[i].Store(0)
	}
	h.total.Store(0)
	h.max.Store(0)
}

// Quantiles returns the value at each quantile q (0 ≤ q ≤ 1) by the
// nearest-rank rule: the smallest recorded value v such that at least
// ceil(q·n) values are ≤ v, reported as the highest value of v's bucket
// (never above Max). It returns zeros when the histogram is empty. The qs
// are read from one pass over the buckets, so they are mutually consistent
// even while other goroutines record.
func (h *Histogram) Quantiles(qs ...float64) []int64 {
	out := make([]int64, len(qs))
	var snap [numBuckets]uint64
	var n uint64
	for i := range h.counts {
		snap[i] = h.counts[i].Load()
		n += snap[i]
	}
	if n == 0 {
		return out
	}
	maxV := h.max.Load()
	for k, q := range qs {
		rank := uint64(math.Ceil(q * float64(n)))
		rank = min(max(rank, 1), n)
		var cum uint64
		for i := range snap {
			cum += snap[i]
			if cum >= rank {
				_, hi := bucketBounds(i)
				out[k] = int64(min(hi, maxV))
				break
			}
		}
	}
	return out
}
