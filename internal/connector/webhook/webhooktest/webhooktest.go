// Package webhooktest has what the webhook sources' tests share: a fake
// clock, a fixture (collector, deps and clock for a source under test),
// requests through a source's handler, signatures, problem, outcome and
// metric checks, and a source started from its config on its own listener.
package webhooktest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
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
	"github.com/eventbridge-dev/eventbridge/internal/connector/webhook"
	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
	"github.com/eventbridge-dev/eventbridge/internal/resource"
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

// T0 is where a fixture's clock starts: 2024-05-01 12:00 UTC.
var T0 = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// Fixture is what a test of one webhook source holds: the source (Src,
// set by the test from f.Deps and f.Options()), the collector its events
// are stored in, its deps and its clock.
type Fixture struct {
	Src   *webhook.Source
	Col   *connectortest.Collector
	Deps  connector.Deps
	Clock *Clock
}

// NewFixture returns a fixture without a source, its clock at T0.
func NewFixture() *Fixture {
	col := connectortest.NewCollector()
	return &Fixture{Col: col, Deps: connectortest.Deps(col), Clock: NewClock(T0)}
}

// Options returns source options reading the fixture's clock.
func (f *Fixture) Options() webhook.Options { return webhook.Options{Clock: f.Clock.Now} }

// Post sends a POST with body and headers (name, value pairs) to the source.
func (f *Fixture) Post(body []byte, headers ...string) *httptest.ResponseRecorder {
	return Post(f.Src, body, headers...)
}

// Rejected returns eventbridge_events_rejected_total{source, reason}.
func (f *Fixture) Rejected(source, reason string) float64 { return Rejected(f.Deps, source, reason) }

// WantOutcome fails the test unless w has the status, and, on 202, the
// source stored one event with the attributes want, or else none.
func (f *Fixture) WantOutcome(t testing.TB, w *httptest.ResponseRecorder, status int, want map[string]string) {
	t.Helper()
	WantStatus(t, w, status)
	if status == http.StatusAccepted {
		WantAttrs(t, One(t, f.Col), want)
	} else if f.Col.Count() != 0 {
		t.Fatalf("answered %d but stored", status)
	}
}

// WantUnauthorized fails the test unless w is a 401 unauthorized problem,
// nothing was stored, and source counted one rejection for reason.
func (f *Fixture) WantUnauthorized(t testing.TB, w *httptest.ResponseRecorder, source, reason string) {
	t.Helper()
	WantProblem(t, w, http.StatusUnauthorized, "unauthorized")
	if f.Col.Count() != 0 || f.Rejected(source, reason) != 1 {
		t.Fatalf("stored %d, rejected{%s} %v", f.Col.Count(), reason, f.Rejected(source, reason))
	}
}

// WantFuzzOutcome is what a fuzzed request may end in: 202 with one valid
// event stored, or 400 with none.
func (f *Fixture) WantFuzzOutcome(t testing.TB, w *httptest.ResponseRecorder) {
	t.Helper()
	switch w.Code {
	case http.StatusAccepted:
		if err := ebevent.Validate(One(t, f.Col)); err != nil {
			t.Fatal(err)
		}
	case http.StatusBadRequest:
		if f.Col.Count() != 0 {
			t.Fatal("refused but stored")
		}
	default:
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
}

// SourceConfig decodes a source's JSON config as the bridge does.
func SourceConfig(t testing.TB, cfgJSON string) connector.Config {
	t.Helper()
	cfg, err := resource.DecodeConnector(resource.KindSource, json.RawMessage(cfgJSON), "source")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// HMACHex is the hex HMAC-SHA256 of the concatenated parts under secret.
func HMACHex(secret string, parts ...[]byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	for _, p := range parts {
		m.Write(p)
	}
	return hex.EncodeToString(m.Sum(nil))
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
	cfg := SourceConfig(t, string(raw))
	typ, ok := connector.LookupSource(cfg.Base().Type)
	if !ok {
		t.Fatalf("source type %q is not registered", cfg.Base().Type)
	}
	src, err := typ.New(name, cfg, connectortest.Deps(ing))
	if err != nil {
		t.Fatalf("new source: %v", err)
	}
	connectortest.Start(t, "source", src)
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
