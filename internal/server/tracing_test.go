package server_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

// The W3C trace context travels from the incoming request, through the
// CloudEvents distributed-tracing extension, to every delivery, with a
// span for ingest, match, transform and each delivery attempt.
func TestTracingAcrossTheBridge(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	prev := otel.GetTracerProvider()
	otel.SetTracerProvider(tp)
	t.Cleanup(func() { otel.SetTracerProvider(prev); _ = tp.Shutdown(t.Context()) })

	sink := testkit.NewSink(t)
	b := startBridge(t, yamlf(`
sources: {in: {type: http, path: /events}}
targets: {out: {type: http, url: %q}}
rules: {r: {targets: [out], transform: {jq: '{x: .id}'}}}
`, sink.URL))
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	incoming := "00-" + traceID + "-00f067aa0ba902b7-01"
	req, _ := http.NewRequest("POST", "http://"+b.Addr()+"/events", strings.NewReader(`{}`))
	for k, v := range map[string]string{"ce-specversion": "1.0", "ce-id": "traced", "ce-source": "/t", "ce-type": "t", "Content-Type": "application/json", "traceparent": incoming} {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 202 {
		t.Fatalf("send: %v %v", err, resp)
	}
	resp.Body.Close()
	testkit.Eventually(t, 10*time.Second, func() bool { return sink.Count() == 1 }, "not delivered")
	got := sink.Events()[0].Header
	if ce := got.Get("Ce-Traceparent"); ce != incoming {
		t.Errorf("ce-traceparent = %q, want the starting trace %q", ce, incoming)
	}
	if tp := got.Get("Traceparent"); !strings.Contains(tp, traceID) || tp == incoming {
		t.Errorf("traceparent = %q: want this hop's span in trace %s", tp, traceID)
	}
	testkit.Eventually(t, 5*time.Second, func() bool { return len(rec.Ended()) >= 4 }, "spans: %d", len(rec.Ended()))
	names := map[string]bool{}
	for _, s := range rec.Ended() {
		if s.SpanContext().TraceID().String() != traceID {
			continue
		}
		names[s.Name()] = true
	}
	for _, want := range []string{"ingest in", "match", "transform r", "deliver r/out"} {
		if !names[want] {
			t.Errorf("no span %q in the trace (have %v)", want, names)
		}
	}
}
