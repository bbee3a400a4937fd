// Package webhooktest has what the webhook sources' tests share: a fake
// clock, requests through a source's handler, problem and metric checks,
// and a source started from its config on its own listener.
package webhooktest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/eventbridge-dev/eventbridge/internal/api/problem"
	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
	"github.com/eventbridge-dev/eventbridge/internal/resource"
	"github.com/eventbridge-dev/eventbridge/internal/telemetry"
)

// Clock is a settable clock. Safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock stopped at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// Deps returns connector dependencies with ing and fresh metrics.
func Deps(ing connector.Ingester) connector.Deps {
	lvl := slog.LevelWarn
	if os.Getenv("EVENTBRIDGE_TEST_DEBUG") != "" {
		lvl = slog.LevelDebug
	}
	return connector.Deps{
		Logger:  slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl})),
		Ingest:  ing,
		Metrics: telemetry.NewMetrics(),
	}
}

// Post sends a POST with body and headers (name, value pairs) to h.
func Post(h http.Handler, body []byte, headers ...string) *httptest.ResponseRecorder {
	return Do(h, http.MethodPost, body, headers...)
}

// Do sends a request to h and returns the answer.
func Do(h http.Handler, method string, body []byte, headers ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, "/hook", bytes.NewReader(body))
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Add(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// WantStatus fails the test unless w has the status.
func WantStatus(t testing.TB, w *httptest.ResponseRecorder, status int) {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status %d, want %d; body %s", w.Code, status, w.Body.String())
	}
}

// WantProblem fails the test unless w is a problem document with this
// status and code, and returns it.
func WantProblem(t testing.TB, w *httptest.ResponseRecorder, status int, code string) problem.Problem {
	t.Helper()
	WantStatus(t, w, status)
	if ct := w.Header().Get("Content-Type"); ct != problem.ContentType {
		t.Fatalf("content type %q, want %q", ct, problem.ContentType)
	}
	var p problem.Problem
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		t.Fatalf("not a problem document: %v: %s", err, w.Body.String())
	}
	if p.Code != code || p.Status != status {
		t.Fatalf("problem %s/%d, want %s/%d: %s", p.Code, p.Status, code, status, w.Body.String())
	}
	if status == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
		t.Fatal("a 401 without WWW-Authenticate")
	}
	return p
}

// Rejected returns eventbridge_events_rejected_total{source, reason}.
func Rejected(d connector.Deps, source, reason string) float64 {
	return testutil.ToFloat64(d.Metrics.Rejected.WithLabelValues(source, reason))
}

// Received returns eventbridge_events_received_total{source}.
func Received(d connector.Deps, source string) float64 {
	return testutil.ToFloat64(d.Metrics.Received.WithLabelValues(source))
}

// One returns the only event c stored, failing the test otherwise.
func One(t testing.TB, c *connectortest.Collector) *ce.Event {
	t.Helper()
	evs := c.Events()
	if len(evs) != 1 {
		t.Fatalf("%d events stored, want 1", len(evs))
	}
	return evs[0]
}

// WantAttrs fails the test unless e has these attribute values (canonical
// strings; "" means absent).
func WantAttrs(t testing.TB, e *ce.Event, want map[string]string) {
	t.Helper()
	for k, v := range want {
		got, ok := ebevent.Attr(e, k)
		if !ok {
			got = ""
		}
		if got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
}

// ReadFile returns a testdata file.
func ReadFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Listen builds a source from its JSON config through the registry (as
// the bridge does), gives it its own listener on a free port, starts it,
// and returns the URL it serves. It is stopped when the test ends.
func Listen(t testing.TB, name, cfgJSON string, ing connector.Ingester) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(cfgJSON), &m); err != nil {
		t.Fatal(err)
	}
	m["listen"] = "127.0.0.1:0"
	raw, _ := json.Marshal(m)
	cfg, err := resource.DecodeConnector(resource.KindSource, raw, "source")
	if err != nil {
		t.Fatalf("source config: %v", err)
	}
	typ, ok := connector.LookupSource(cfg.Base().Type)
	if !ok {
		t.Fatalf("source type %q is not registered", cfg.Base().Type)
	}
	src, err := typ.New(name, cfg, Deps(ing))
	if err != nil {
		t.Fatalf("new source: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := src.Start(ctx); err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = src.Stop(ctx)
	})
	h := src.Health()
	addr, _ := h.Detail["listen"].(string)
	path, _ := h.Detail["path"].(string)
	if addr == "" || path == "" {
		t.Fatalf("health has no listen address or path: %+v", h)
	}
	return "http://" + addr + path
}

// Send POSTs body to url with headers (name, value pairs), and returns the
// status and body of the answer. Connections are closed after each call.
func Send(t testing.TB, url string, body []byte, headers ...string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	req.Close = true
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// SameJSON fails the test unless got and want are the same JSON value.
func SameJSON(t testing.TB, got, want []byte) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("got is not JSON: %v: %s", err, got)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("want is not JSON: %v", err)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if string(gb) != string(wb) {
		t.Fatalf("JSON differs:\ngot  %s\nwant %s", gb, wb)
	}
}
