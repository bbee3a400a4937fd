package telemetry

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"

	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

// TracingConfig is the `tracing` section: off unless an OTLP endpoint is set.
type TracingConfig struct {
	OTLP OTLPConfig `json:"otlp,omitempty"`
	// SamplingRatio of new traces (0..1); traces started upstream keep
	// their decision. Default 1.
	SamplingRatio *float64 `json:"sampling_ratio,omitempty"`
	// ServiceName in the traces. Default "eventbridge".
	ServiceName string `json:"service_name,omitempty"`
}

// OTLPConfig is where spans go (OTLP over HTTP).
type OTLPConfig struct {
	// Endpoint is the collector's base URL, e.g. http://127.0.0.1:4318;
	// spans go to its /v1/traces (a URL already ending in /v1/traces is
	// used as written).
	Endpoint string `json:"endpoint,omitempty"`
	// Headers are sent with every export (secrets allowed).
	Headers map[string]spec.Secret `json:"headers,omitempty"`
}

// Enabled reports whether tracing is on.
func (c TracingConfig) Enabled() bool { return c.OTLP.Endpoint != "" }

// Validate reports problems under p.
func (c *TracingConfig) Validate(p spec.Problems) {
	if c.OTLP.Endpoint != "" && !strings.HasPrefix(c.OTLP.Endpoint, "http://") && !strings.HasPrefix(c.OTLP.Endpoint, "https://") {
		p.AddAt("otlp.endpoint", "must be an http:// or https:// URL")
	}
	if r := c.SamplingRatio; r != nil && (*r < 0 || *r > 1) {
		p.AddAt("sampling_ratio", "must be between 0 and 1")
	}
}

// Tracer is the tracer every component uses.
func Tracer() trace.Tracer { return otel.Tracer("github.com/eventbridge-dev/eventbridge") }

// defaultProvider is OpenTelemetry's global provider before any is set:
// its spans record nothing.
var defaultProvider = otel.GetTracerProvider()

// TracingOn reports whether a tracer provider is installed (SetupTracing
// with an exporter, or a program or test that set one). Hot paths skip
// starting spans when none is (a span that records nothing still costs
// allocations per event); the trace context in ctx travels either way.
func TracingOn() bool { return otel.GetTracerProvider() != defaultProvider }

// SetupTracing installs the global tracer provider and propagator; the
// returned function flushes and stops it. With tracing off it installs the
// propagator only (so contexts still travel) and spans are not recorded.
func SetupTracing(ctx context.Context, c TracingConfig, instance, version string) (func(context.Context) error, error) {
	otel.SetTextMapPropagator(propagation.TraceContext{})
	if !c.Enabled() {
		return func(context.Context) error { return nil }, nil
	}
	headers := map[string]string{}
	for k, v := range c.OTLP.Headers {
		headers[k] = v.Value()
	}
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(tracesURL(c.OTLP.Endpoint)), otlptracehttp.WithHeaders(headers))
	if err != nil {
		return nil, fmt.Errorf("tracing: %w", err)
	}
	name := c.ServiceName
	if name == "" {
		name = "eventbridge"
	}
	ratio := 1.0
	if c.SamplingRatio != nil {
		ratio = *c.SamplingRatio
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp, sdktrace.WithBatchTimeout(2*time.Second)),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(ratio))),
		sdktrace.WithResource(resource.NewWithAttributes(semconv.SchemaURL,
			semconv.ServiceName(name), semconv.ServiceVersion(version), semconv.ServiceInstanceID(instance))),
	)
	otel.SetTracerProvider(tp)
	return tp.Shutdown, nil
}

// tracesPath is the OTLP/HTTP path of the traces signal.
const tracesPath = "/v1/traces"

// tracesURL is the URL spans are posted to for the configured endpoint.
// otlptracehttp.WithEndpointURL posts to the URL's path as written, but the
// endpoint is a collector's base URL (as OTEL_EXPORTER_OTLP_ENDPOINT is), so
// the signal path is appended to it, unless it already ends with it.
func tracesURL(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil {
		return endpoint // Validate has reported it; the exporter will say why too.
	}
	p := strings.TrimSuffix(u.Path, "/")
	if !strings.HasSuffix(p, tracesPath) {
		p += tracesPath
	}
	u.Path, u.RawPath = p, ""
	return u.String()
}

// The CloudEvents distributed-tracing extension attributes.
const (
	ExtTraceparent = "traceparent"
	ExtTracestate  = "tracestate"
)

// EventContext returns ctx carrying the trace context of e's
// distributed-tracing extension (when it has one).
func EventContext(ctx context.Context, e *ce.Event) context.Context {
	carrier := propagation.MapCarrier{}
	if v, ok := extString(e, ExtTraceparent); ok {
		carrier[ExtTraceparent] = v
	}
	if v, ok := extString(e, ExtTracestate); ok {
		carrier[ExtTracestate] = v
	}
	if len(carrier) == 0 {
		return ctx
	}
	return propagation.TraceContext{}.Extract(ctx, carrier)
}

// extString is e's extension name when it is a string; e.Extensions()
// would copy every extension of e to read one.
func extString(e *ce.Event, name string) (string, bool) {
	v, ok := ebevent.Extension(e, name)
	if !ok {
		return "", false
	}
	s, ok := v.(string)
	return s, ok
}

// SetEventContext writes ctx's trace context into e's distributed-tracing
// extension, unless e already carries one: the extension holds the trace
// that started the event, not each hop's.
func SetEventContext(ctx context.Context, e *ce.Event) {
	if _, ok := ebevent.Extension(e, ExtTraceparent); ok {
		return
	}
	carrier := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(ctx, carrier)
	if tp := carrier[ExtTraceparent]; tp != "" {
		e.SetExtension(ExtTraceparent, tp)
		if ts := carrier[ExtTracestate]; ts != "" {
			e.SetExtension(ExtTracestate, ts)
		}
	}
}

// EventAttributes are the span attributes of an event.
func EventAttributes(e *ce.Event) []attribute.KeyValue {
	return []attribute.KeyValue{
		attribute.String("cloudevents.event_id", e.ID()),
		attribute.String("cloudevents.event_source", e.Source()),
		attribute.String("cloudevents.event_type", e.Type()),
	}
}
