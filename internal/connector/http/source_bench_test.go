package http

import (
	"context"
	"io"
	nethttp "net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"testing"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
	"github.com/eventbridge-dev/eventbridge/internal/telemetry"
)

// discardIngester takes events and stores nothing: the source's own cost,
// without the bus's.
type discardIngester struct{}

func (discardIngester) Ingest(context.Context, string, []*ce.Event) error { return nil }

// benchSource is an http source with the defaults, storing nowhere.
func benchSource(b *testing.B) *Source {
	cfg := &SourceConfig{Common: connector.Common{Type: "http"}}
	cfg.Defaults()
	p := spec.NewProblems("")
	cfg.Validate(p)
	if err := p.Err(); err != nil {
		b.Fatal(err)
	}
	src, err := newSource("web", cfg, connector.Deps{Ingest: discardIngester{}, Metrics: telemetry.NewMetrics()})
	if err != nil {
		b.Fatal(err)
	}
	return src.(*Source)
}

// nopWriter is a ResponseWriter that keeps the status only: unlike
// httptest.NewRecorder, it costs nothing per request.
type nopWriter struct {
	h    nethttp.Header
	code int
}

func (w *nopWriter) Header() nethttp.Header      { return w.h }
func (w *nopWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *nopWriter) WriteHeader(code int)        { w.code = code }

// BenchmarkSourceBinary is the http source's handler for one binary-mode
// event of about 300 bytes (headers as net/http's server canonicalises
// them), the bus left out: request to event to 202.
func BenchmarkSourceBinary(b *testing.B) {
	h := benchSource(b)
	body := strings.NewReader(benchData)
	u, _ := url.Parse("http://example.com/events")
	ctx := context.Background()
	w := &nopWriter{h: nethttp.Header{}}
	b.ReportAllocs()
	b.ResetTimer()
	defer cpuPerOp(b)()
	for i := range b.N {
		body.Reset(benchData)
		req := (&nethttp.Request{
			Method: nethttp.MethodPost, URL: u, Host: "example.com", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Body: io.NopCloser(body), ContentLength: int64(len(benchData)),
			Header: nethttp.Header{
				"Content-Type":   {"application/json"},
				"Ce-Specversion": {"1.0"},
				"Ce-Id":          {"id-" + strconv.Itoa(i)},
				"Ce-Source":      {"/bench"},
				"Ce-Type":        {"com.example.bench"},
				"Ce-Time":        {"2026-12-07T12:00:00Z"},
				"Ce-Traceparent": {"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
			},
		}).WithContext(ctx)
		w.code = 0
		h.ServeHTTP(w, req)
		if w.code != nethttp.StatusAccepted {
			b.Fatalf("status %d", w.code)
		}
	}
}

// BenchmarkSourceStructured is BenchmarkSourceBinary's event in structured
// mode (application/cloudevents+json).
func BenchmarkSourceStructured(b *testing.B) {
	h := benchSource(b)
	doc := `{"specversion":"1.0","id":"id-1","source":"/bench","type":"com.example.bench","time":"2026-12-07T12:00:00Z","datacontenttype":"application/json","data":` + benchData + `}`
	body := strings.NewReader(doc)
	u, _ := url.Parse("http://example.com/events")
	ctx := context.Background()
	w := &nopWriter{h: nethttp.Header{}}
	b.ReportAllocs()
	b.ResetTimer()
	defer cpuPerOp(b)()
	for range b.N {
		body.Reset(doc)
		req := (&nethttp.Request{
			Method: nethttp.MethodPost, URL: u, Host: "example.com", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Body: io.NopCloser(body), ContentLength: int64(len(doc)),
			Header: nethttp.Header{"Content-Type": {MediaStructured}},
		}).WithContext(ctx)
		w.code = 0
		h.ServeHTTP(w, req)
		if w.code != nethttp.StatusAccepted {
			b.Fatalf("status %d", w.code)
		}
	}
}

// cpuPerOp reports, when the returned func is called at the end of a
// benchmark, the CPU time (user and system) the process spent per
// operation since cpuPerOp was called: on a shared machine it moves far
// less than ns/op, which counts the time the benchmark waited for a core.
// Everything the process runs counts, the servers of the benchmark too.
func cpuPerOp(b *testing.B) func() {
	start := processCPU()
	return func() {
		if start > 0 {
			b.ReportMetric(float64(processCPU()-start)/float64(b.N), "cpu-ns/op")
		}
	}
}

func processCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
