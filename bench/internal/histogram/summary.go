package histogram

import "time"

// Summary is the usual digest of a latency histogram, in milliseconds.
// It is the JSON shape the sink and the load generator report.
type Summary struct {
	Count uint64  `json:"count"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p999"`
	Max   float64 `json:"max"`
}

// Summarize digests a histogram of nanosecond values.
func (h *Histogram) Summarize() Summary {
	q := h.Quantiles(0.50, 0.90, 0.99, 0.999)
	return Summary{
		Count: h.Count(),
		P50:   ms(q[0]),
		P90:   ms(q[1]),
		P99:   ms(q[2]),
		P999:  ms(q[3]),
		Max:   ms(h.Max()),
	}
}

// ms converts nanoseconds to milliseconds, rounded to the microsecond.
func ms(ns int64) float64 {
	return float64(time.Duration(ns).Round(time.Microsecond)) / float64(time.Millisecond)
}
