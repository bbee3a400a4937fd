package server

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/eventbridge-dev/eventbridge/internal/resource"
	"github.com/eventbridge-dev/eventbridge/internal/telemetry"
)

// counters reads a resource's main metrics for the API's status.
func (b *Bridge) counters(kind resource.Kind, name string) map[string]float64 {
	m := b.metrics
	out := map[string]float64{}
	switch kind {
	case resource.KindSource:
		out["received"] = sum(m.Received, prometheus.Labels{"source": name})
		out["rejected"] = sum(m.Rejected, prometheus.Labels{"source": name})
		out["stored"] = sum(m.Stored, prometheus.Labels{"source": name})
		out["duplicates"] = sum(m.Duplicates, prometheus.Labels{"source": name})
	case resource.KindTarget:
		for _, o := range []string{telemetry.OutcomeDelivered, telemetry.OutcomeRetry, telemetry.OutcomeDeadLettered} {
			out[o] = sum(m.Deliveries, prometheus.Labels{"target": name, "outcome": o})
		}
	case resource.KindRule:
		out["matched"] = sum(m.Matched, prometheus.Labels{"rule": name})
		for _, o := range []string{telemetry.OutcomeDelivered, telemetry.OutcomeRetry, telemetry.OutcomeDeadLettered, telemetry.OutcomeOverflow} {
			out[o] = sum(m.Deliveries, prometheus.Labels{"rule": name, "outcome": o})
		}
		out["pending"] = sumGauge(m.Pending, prometheus.Labels{"rule": name})
		out["dead_letters"] = b.deadLetters(name)
	}
	return out
}

// deadLetters counts a rule's dead letters now, from the dead-letter
// stream the DLQ listing reads, so that the count shown next to the list
// agrees with it (right after a redrive or purge too); the gauge, refreshed
// every few seconds, is the fallback when the bus does not answer.
func (b *Bridge) deadLetters(rule string) float64 {
	if b.bus != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if counts, err := b.bus.DeadLetters().Counts(ctx, rule); err == nil {
			total := uint64(0)
			for _, n := range counts {
				total += n
			}
			return float64(total)
		}
	}
	return sumGauge(b.metrics.DLQ, prometheus.Labels{"rule": rule})
}

// sum adds up the series of a counter vector whose labels include match.
func sum(v *prometheus.CounterVec, match prometheus.Labels) float64 {
	return collect(v, match, func(m *dto.Metric) float64 { return m.GetCounter().GetValue() })
}

func sumGauge(v *prometheus.GaugeVec, match prometheus.Labels) float64 {
	return collect(v, match, func(m *dto.Metric) float64 { return m.GetGauge().GetValue() })
}

func collect(c prometheus.Collector, match prometheus.Labels, value func(*dto.Metric) float64) float64 {
	ch := make(chan prometheus.Metric, 64)
	go func() { c.Collect(ch); close(ch) }()
	total := 0.0
	for pm := range ch {
		var m dto.Metric
		if pm.Write(&m) != nil {
			continue
		}
		ok := true
		for k, want := range match {
			found := false
			for _, lp := range m.GetLabel() {
				if lp.GetName() == k && lp.GetValue() == want {
					found = true
				}
			}
			ok = ok && found
		}
		if ok {
			total += value(&m)
		}
	}
	return total
}
