package main

import (
	"slices"
	"strings"
)

// spread is a figure over the rounds: lowest, median and highest.
type spread struct {
	N      int     `json:"n"`
	Min    float64 `json:"min"`
	Median float64 `json:"median"`
	Max    float64 `json:"max"`
}

func spreadOf(vals []float64) spread {
	if len(vals) == 0 {
		return spread{}
	}
	v := slices.Clone(vals)
	slices.Sort(v)
	med := v[len(v)/2]
	if len(v)%2 == 0 {
		med = (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return spread{N: len(v), Min: v[0], Median: med, Max: v[len(v)-1]}
}

// boxSummary is one middlebox's figures over all rounds.
type boxSummary struct {
	Middlebox   string `json:"middlebox"`
	Unavailable string `json:"unavailable,omitempty"` // when no round ran
	// Saturation: delivered and accepted events/s, CPU µs per event.
	SatRate      spread `json:"sat_delivered_rate"`
	AcceptedRate spread `json:"sat_accepted_rate"`
	SatCPU       spread `json:"sat_cpu_per_event_us"`
	// Fixed rate: end-to-end latency (ms) and CPU µs per event.
	P50      spread `json:"fixed_e2e_p50_ms"`
	P99      spread `json:"fixed_e2e_p99_ms"`
	FixedCPU spread `json:"fixed_cpu_per_event_us"`
	// PeakRSSMiB is the middlebox's peak resident memory.
	PeakRSSMiB spread `json:"peak_rss_mib"`
}

// summarize gathers the samples of middlebox kind.
func summarize(kind string, samples []sample) boxSummary {
	sum := boxSummary{Middlebox: kind}
	var sat, acc, satCPU, p50, p99, fixCPU, rss []float64
	var reasons []string
	for _, s := range samples {
		if s.Middlebox != kind {
			continue
		}
		if s.Unavailable != "" {
			reasons = append(reasons, s.Unavailable)
			continue
		}
		if p := s.Saturation; p != nil {
			sat = append(sat, p.DeliveredRate)
			acc = append(acc, p.Load.OKRate)
			if p.CPUPerEventUS > 0 {
				satCPU = append(satCPU, p.CPUPerEventUS)
			}
		}
		if p := s.Fixed; p != nil {
			p50 = append(p50, p.Sink.P50)
			p99 = append(p99, p.Sink.P99)
			if p.CPUPerEventUS > 0 {
				fixCPU = append(fixCPU, p.CPUPerEventUS)
			}
		}
		if s.PeakRSS > 0 {
			rss = append(rss, float64(s.PeakRSS)/(1<<20))
		}
	}
	if len(reasons) > 0 && len(sat)+len(p50) == 0 {
		sum.Unavailable = firstLine(reasons[0])
	}
	sum.SatRate, sum.AcceptedRate, sum.SatCPU = spreadOf(sat), spreadOf(acc), spreadOf(satCPU)
	sum.P50, sum.P99, sum.FixedCPU = spreadOf(p50), spreadOf(p99), spreadOf(fixCPU)
	sum.PeakRSSMiB = spreadOf(rss)
	return sum
}

// roundRatios divides a figure of middlebox num by that of den, round by
// round (the two ran back to back, so slow spells of the machine largely
// cancel). Rounds where either figure is missing are skipped.
func roundRatios(samples []sample, num, den string, figure func(sample) (float64, bool)) spread {
	byRound := map[int]map[string]float64{}
	for _, s := range samples {
		if v, ok := figure(s); ok && s.Unavailable == "" && v > 0 {
			if byRound[s.Round] == nil {
				byRound[s.Round] = map[string]float64{}
			}
			byRound[s.Round][s.Middlebox] = v
		}
	}
	var ratios []float64
	for _, m := range byRound {
		if n, ok := m[num]; ok {
			if d, ok := m[den]; ok {
				ratios = append(ratios, n/d)
			}
		}
	}
	return spreadOf(ratios)
}

func satRate(s sample) (float64, bool) {
	if s.Saturation == nil {
		return 0, false
	}
	return s.Saturation.DeliveredRate, true
}

func fixedP99(s sample) (float64, bool) {
	if s.Fixed == nil {
		return 0, false
	}
	return s.Fixed.Sink.P99, true
}

func satCPU(s sample) (float64, bool) {
	if s.Saturation == nil {
		return 0, false
	}
	return s.Saturation.CPUPerEventUS, true
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
