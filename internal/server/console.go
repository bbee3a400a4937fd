package server

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/eventbridge-dev/eventbridge/internal/activity"
	"github.com/eventbridge-dev/eventbridge/internal/console"
	"github.com/eventbridge-dev/eventbridge/internal/telemetry"
)

// The console's activity: samples every 5 s, 15 one-minute buckets.
const (
	activityEvery   = 5 * time.Second
	activityWindow  = 15 * time.Minute
	activityBuckets = 15
)

// mountConsole serves the web console at /ui/ (static files; every datum
// comes from the authenticated API) and starts the activity recorder.
func (b *Bridge) mountConsole(m *http.ServeMux) {
	h := console.Handler()
	m.Handle("GET /ui/", h)
	m.Handle("GET /ui", h)
	b.activity = activity.New(b.activitySample, activityEvery, activityWindow)
}

// activityReport is GET /v1/activity's answer.
func (b *Bridge) activityReport() activity.Report {
	rep := b.activity.Report(activityBuckets, activityWindow/activityBuckets)
	rep.Streams = map[string]activity.Stream{}
	eachSeries(b.metrics.StreamMessages, func(l map[string]string, v float64) {
		s := rep.Streams[l["stream"]]
		s.Messages = v
		rep.Streams[l["stream"]] = s
	})
	eachSeries(b.metrics.StreamBytes, func(l map[string]string, v float64) {
		s := rep.Streams[l["stream"]]
		s.Bytes = v
		rep.Streams[l["stream"]] = s
	})
	return rep
}

// activitySample reads the counters the console's overview charts.
func (b *Bridge) activitySample() activity.Sample {
	s := activity.Sample{}
	add := func(group, name, counter string, v float64) {
		s[activity.Key(group, name, counter)] += v
		s[activity.Key("total", "*", counter)] += v
	}
	m := b.metrics
	eachSeries(m.Stored, func(l map[string]string, v float64) { add("source", l["source"], "in", v) })
	eachSeries(m.Matched, func(l map[string]string, v float64) { add("rule", l["rule"], "matched", v) })
	names := map[string]string{
		telemetry.OutcomeDelivered: "delivered", telemetry.OutcomeRetry: "retried", telemetry.OutcomeDeadLettered: "dead_lettered",
	}
	eachSeries(m.Deliveries, func(l map[string]string, v float64) {
		c, ok := names[l["outcome"]]
		if !ok {
			return
		}
		add("rule", l["rule"], c, v)
		s[activity.Key("target", l["target"], c)] += v
	})
	return s
}

// eachSeries calls fn with the labels and value of each series of a
// counter or gauge vector.
func eachSeries(c prometheus.Collector, fn func(labels map[string]string, v float64)) {
	ch := make(chan prometheus.Metric, 64)
	go func() { c.Collect(ch); close(ch) }()
	for pm := range ch {
		var m dto.Metric
		if pm.Write(&m) != nil {
			continue
		}
		l := make(map[string]string, len(m.GetLabel()))
		for _, lp := range m.GetLabel() {
			l[lp.GetName()] = lp.GetValue()
		}
		switch {
		case m.Counter != nil:
			fn(l, m.GetCounter().GetValue())
		case m.Gauge != nil:
			fn(l, m.GetGauge().GetValue())
		}
	}
}
