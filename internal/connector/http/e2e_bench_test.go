package http

import (
	"context"
	"io"
	nethttp "net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
	"github.com/eventbridge-dev/eventbridge/internal/bus/bustest"
	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/delivery"
	"github.com/eventbridge-dev/eventbridge/internal/filter"
	"github.com/eventbridge-dev/eventbridge/internal/router"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
	"github.com/eventbridge-dev/eventbridge/internal/telemetry"
)

// countingTarget counts deliveries and keeps nothing.
type countingTarget struct {
	component.Tracker
	n atomic.Int64
}

func (c *countingTarget) Start(context.Context) error           { return nil }
func (c *countingTarget) Stop(context.Context) error            { return nil }
func (c *countingTarget) Send(context.Context, *ce.Event) error { c.n.Add(1); return nil }

// BenchmarkEndToEnd is the whole path of one binary-mode event in process:
// the HTTP source's handler decodes the request and stores the event in
// the bus (WORK and EVENTS) before it answers 202; the router, already
// running, matches it against one rule (a prefix on type, as in bench/)
// and hands it to the rule's route, whose worker gives it to a target
// that counts. The clock stops when the target has every event and WORK
// is empty (every message acknowledged). Its allocs/op and B/op are per
// event, from the request to the acknowledgement of the WORK message.
// Requests come from 16 goroutines, as concurrent producers would send
// them.
func BenchmarkEndToEnd(b *testing.B) {
	bs := bustest.New(b)
	ctx := context.Background()
	metrics := telemetry.NewMetrics()
	keeper := delivery.NewKeeper(bs.Config().AckWait.D())
	defer keeper.Close()

	tg := &countingTarget{}
	var p delivery.Policy
	p.Defaults()
	rt := delivery.NewRoute(delivery.RouteConfig{Rule: "bench", Target: "sink", Policy: p, Sender: tg, Bus: bs, Keeper: keeper, Metrics: metrics})
	if err := rt.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer rt.Stop(ctx)
	r := router.New(router.Config{Bus: bs, Keeper: keeper, Metrics: metrics})
	rule := router.Rule{Name: "bench", Filter: filter.Spec{Pattern: map[string]any{"type": []any{map[string]any{"prefix": "com.example."}}}}, Routes: []*delivery.Route{rt}}
	if err := r.SetRules(ctx, []router.Rule{rule}); err != nil {
		b.Fatal(err)
	}
	if err := r.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer r.Stop(ctx)

	cfg := &SourceConfig{Common: connector.Common{Type: "http"}}
	cfg.Defaults()
	pr := spec.NewProblems("")
	cfg.Validate(pr)
	if err := pr.Err(); err != nil {
		b.Fatal(err)
	}
	src, err := newSource("web", cfg, connector.Deps{Ingest: bustest.Ingester{Bus: bs}, Metrics: metrics})
	if err != nil {
		b.Fatal(err)
	}
	h := src.(*Source)
	u, _ := url.Parse("http://example.com/events")
	var seq atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(8) // 8 × GOMAXPROCS producers
	b.ResetTimer()
	reportCPU := cpuPerOp(b)
	b.RunParallel(func(pb *testing.PB) {
		body := strings.NewReader(benchData)
		for pb.Next() {
			body.Reset(benchData)
			// Built by hand: httptest.NewRequest parses a request, with
			// a 4 KiB buffer, which the server does not do per request.
			req := (&nethttp.Request{
				Method: nethttp.MethodPost, URL: u, Host: "example.com", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
				Body: io.NopCloser(body), ContentLength: int64(len(benchData)),
				Header: nethttp.Header{
					"Content-Type":   {"application/json"},
					"Ce-Specversion": {"1.0"},
					"Ce-Id":          {"id-" + strconv.FormatInt(seq.Add(1), 10)},
					"Ce-Source":      {"/bench"},
					"Ce-Type":        {"com.example.bench"},
					"Ce-Time":        {"2026-12-07T12:00:00Z"},
				},
			}).WithContext(ctx)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != nethttp.StatusAccepted {
				b.Errorf("status %d: %s", w.Code, w.Body)
				return
			}
		}
	})
	deadline := time.Now().Add(5 * time.Minute)
	for tg.n.Load() < int64(b.N) || bustest.Count(b, bs, bus.StreamWork, "") > 1 {
		// One WORK message may be held back by the router's acker (at
		// most ackLinger), which is not part of the path's cost.
		if time.Now().After(deadline) {
			b.Fatalf("not drained: %d of %d delivered", tg.n.Load(), b.N)
		}
		time.Sleep(100 * time.Microsecond)
	}
	b.StopTimer()
	reportCPU()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/event")
	if kb := peakRSSKiB(); kb > 0 {
		b.ReportMetric(float64(kb)/1024, "peak-RSS-MiB")
	}
}

// peakRSSKiB is the process's peak resident set (VmHWM), 0 where
// /proc/self/status is not there. It covers the whole process, benchmark
// harness included, so compare it only between runs of one benchmark.
func peakRSSKiB() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb
		}
	}
	return 0
}
