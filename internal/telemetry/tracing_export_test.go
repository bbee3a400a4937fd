package telemetry

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
)

// collector is a loopback OTLP/HTTP collector that records the path and
// size of each export it receives.
type collector struct {
	*httptest.Server
	mu      sync.Mutex
	exports map[string]int // path -> bytes of the last body
}

func newCollector(t *testing.T) *collector {
	c := &collector{exports: map[string]int{}}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		c.mu.Lock()
		c.exports[r.URL.Path] = len(body)
		c.mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(c.Close)
	return c
}

func (c *collector) seen() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for k, v := range c.exports {
		out[k] = v
	}
	return out
}

// exportOneSpan sets tracing up against endpoint, ends one span and flushes
// it by shutting the provider down.
func exportOneSpan(t *testing.T, endpoint string) {
	t.Helper()
	prev := otel.GetTracerProvider()
	t.Cleanup(func() { otel.SetTracerProvider(prev) })
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	shutdown, err := SetupTracing(ctx, TracingConfig{OTLP: OTLPConfig{Endpoint: endpoint}}, "test", "v0")
	if err != nil {
		t.Fatal(err)
	}
	_, span := Tracer().Start(ctx, "probe")
	span.End()
	if err := shutdown(ctx); err != nil {
		t.Fatalf("flush: %v", err)
	}
}

// The docs tell users to write the collector's base URL; spans must reach
// the OTLP traces path under it, not the URL's path as written.
func TestTracingExportsToTheTracesPathOfTheEndpoint(t *testing.T) {
	for _, tc := range []struct{ name, suffix, want string }{
		{"base URL", "", "/v1/traces"},
		{"base URL with slash", "/", "/v1/traces"},
		{"full traces URL", "/v1/traces", "/v1/traces"},
		{"base URL under a prefix", "/otlp", "/otlp/v1/traces"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCollector(t)
			exportOneSpan(t, c.URL+tc.suffix)
			got := c.seen()
			if n, ok := got[tc.want]; !ok || n == 0 {
				t.Fatalf("exports by path = %v, want a non-empty body at %s", got, tc.want)
			}
			if len(got) != 1 {
				t.Errorf("exports by path = %v, want only %s", got, tc.want)
			}
		})
	}
}
