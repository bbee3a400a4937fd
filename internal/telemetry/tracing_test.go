package telemetry

import (
	"testing"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

func TestTracingOnFollowsTheInstalledProvider(t *testing.T) {
	if TracingOn() {
		t.Fatal("tracing on with no provider installed")
	}
	prev := otel.GetTracerProvider()
	tp := sdktrace.NewTracerProvider()
	otel.SetTracerProvider(tp)
	t.Cleanup(func() { otel.SetTracerProvider(prev); _ = tp.Shutdown(t.Context()) })
	if !TracingOn() {
		t.Fatal("tracing off with a provider installed: spans would be skipped")
	}
}
