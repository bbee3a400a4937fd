package http

import (
	"context"
	"io"
	nethttp "net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"

	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
	"github.com/eventbridge-dev/eventbridge/internal/bus/bustest"
	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
	"github.com/eventbridge-dev/eventbridge/internal/telemetry"
)

// benchData is the body of a binary-mode event of about 300 bytes, as in
// the bench/ scenarios.
var benchData = `{"order":"o-12345","customer":"c-987","items":[{"sku":"sku-1","qty":2},{"sku":"sku-2","qty":1}],"total":42.5,"currency":"EUR","note":"` + strings.Repeat("x", 120) + `"}`

// BenchmarkIngestBinary is the ingest path of one binary-mode event, in
// process: the source's handler decodes the request and stores the event
// in the bus (EVENTS and WORK) before it answers 202.
func BenchmarkIngestBinary(b *testing.B) {
	bs := bustest.New(b)
	cfg := &SourceConfig{Common: connector.Common{Type: "http"}}
	cfg.Defaults()
	p := spec.NewProblems("")
	cfg.Validate(p)
	if err := p.Err(); err != nil {
		b.Fatal(err)
	}
	src, err := newSource("web", cfg, connector.Deps{Ingest: bustest.Ingester{Bus: bs}, Metrics: telemetry.NewMetrics()})
	if err != nil {
		b.Fatal(err)
	}
	h := src.(*Source)
	body := strings.NewReader(benchData)
	u, _ := url.Parse("http://example.com/events")
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	defer cpuPerOp(b)()
	for i := range b.N {
		body.Reset(benchData)
		// Built by hand: httptest.NewRequest parses a request, with
		// a 4 KiB buffer, which the server does not do per request.
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
			},
		}).WithContext(ctx)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != nethttp.StatusAccepted {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}

// BenchmarkTargetSendBinary is one binary-mode delivery by the http target
// to a local server that answers 204.
func BenchmarkTargetSendBinary(b *testing.B) {
	srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		w.WriteHeader(nethttp.StatusNoContent)
	}))
	defer srv.Close()
	cfg := &TargetConfig{Common: connector.Common{Type: "http"}, URL: srv.URL}
	cfg.Defaults()
	tg, err := newTarget("t", cfg, connector.Deps{})
	if err != nil {
		b.Fatal(err)
	}
	defer tg.Stop(context.Background())
	e := benchEvent(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	defer cpuPerOp(b)()
	for range b.N {
		if err := tg.Send(ctx, e); err != nil {
			b.Fatal(err)
		}
	}
}

// benchEvent is a 300-byte event as a route hands it to the target: read
// back from its stored JSON form.
func benchEvent(b *testing.B) *ce.Event {
	e := ce.New()
	e.SetID("id-1")
	e.SetSource("/bench")
	e.SetType("com.example.bench")
	e.SetTime(time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC))
	e.SetDataContentType("application/json")
	ebevent.SetBinaryData(&e, []byte(benchData))
	m, err := bus.EncodeEvent("web", &e, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	out, err := bus.DecodeEvent(m.Data)
	if err != nil {
		b.Fatal(err)
	}
	return out
}
