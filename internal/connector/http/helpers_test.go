package http

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	nethttp "net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"go.uber.org/goleak"

	"github.com/eventbridge-dev/eventbridge/internal/api/problem"
	"github.com/eventbridge-dev/eventbridge/internal/connector"
	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
	"github.com/eventbridge-dev/eventbridge/internal/telemetry"
)

func TestMain(m *testing.M) {
	// httptest servers of the round-trip tests and the target's idle
	// connections must be gone when the tests end.
	goleak.VerifyTestMain(m)
}

// recorder is a connector.Ingester that keeps what it is given. Like the
// bus (bus.EncodeEvent / bus.DecodeEvent), it stores each event as its JSON
// format and reads it back, so tests see what a route would see.
type recorder struct {
	mu      sync.Mutex
	batches [][]*ce.Event
	err     error // returned by Ingest when set; nothing is stored then
}

func (r *recorder) Ingest(_ context.Context, _ string, events []*ce.Event) error {
	if r.err != nil {
		return r.err
	}
	stored := make([]*ce.Event, len(events))
	for i, e := range events {
		b, err := e.MarshalJSON()
		if err != nil {
			return errors.Join(errors.New("the bus cannot encode the event"), err)
		}
		if !json.Valid(b) || !utf8.Valid(b) {
			return errors.New("the bus would store invalid JSON: " + string(b))
		}
		s := ce.New()
		if err := s.UnmarshalJSON(b); err != nil {
			return errors.Join(errors.New("the bus cannot decode the event it wrote: "+string(b)), err)
		}
		stored[i] = &s
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.batches = append(r.batches, stored)
	return nil
}

// events returns every stored event, in order.
func (r *recorder) events() []*ce.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*ce.Event
	for _, b := range r.batches {
		out = append(out, b...)
	}
	return out
}

func (r *recorder) calls() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.batches)
}

// newTestSource builds an http source with defaults, changed by edit, that
// ingests into the returned recorder. The source is not started: tests call
// ServeHTTP directly.
func newTestSource(t testing.TB, edit func(*SourceConfig)) (*Source, *recorder) {
	t.Helper()
	cfg := &SourceConfig{Common: connector.Common{Type: "http"}}
	if edit != nil {
		edit(cfg)
	}
	cfg.Defaults()
	p := spec.NewProblems("")
	cfg.Validate(p)
	if err := p.Err(); err != nil {
		t.Fatalf("test config: %v", err)
	}
	rec := &recorder{}
	src, err := newSource("test", cfg, connector.Deps{Ingest: rec, Metrics: telemetry.NewMetrics()})
	if err != nil {
		t.Fatal(err)
	}
	return src.(*Source), rec
}

// serve runs req through h and returns the response.
func serve(h nethttp.Handler, req *nethttp.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

// post builds a POST to /events with the given headers (name, value
// pairs) and body.
func post(body string, headers ...string) *nethttp.Request {
	req := httptest.NewRequest(nethttp.MethodPost, "/events", strings.NewReader(body))
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	return req
}

// binaryHeaders are the required attributes of a binary-mode request.
func binaryHeaders(extra ...string) []string {
	return append([]string{
		"ce-specversion", "1.0",
		"ce-id", "id-1",
		"ce-source", "/test",
		"ce-type", "com.example.test",
	}, extra...)
}

// readProblem checks that w is a problem document with the given status and
// decodes it.
func readProblem(t testing.TB, w *httptest.ResponseRecorder, status int) problem.Problem {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status %d, want %d; body: %s", w.Code, status, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); ct != problem.ContentType {
		t.Fatalf("Content-Type %q, want %q", ct, problem.ContentType)
	}
	var p problem.Problem
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		t.Fatalf("problem document: %v; body: %s", err, w.Body)
	}
	if p.Status != status {
		t.Errorf("problem status %d, want %d", p.Status, status)
	}
	return p
}

// problemFields returns "field" or "[i].field" for each entry of p.Errors.
func problemFields(p problem.Problem) []string {
	out := make([]string, 0, len(p.Errors))
	for _, fe := range p.Errors {
		s := fe.Field
		if fe.Index != nil {
			s = "[" + strconv.Itoa(*fe.Index) + "]." + s
		}
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// wantAccepted checks for 202 and returns the events stored by that request.
func wantAccepted(t testing.TB, w *httptest.ResponseRecorder, rec *recorder, n int) []*ce.Event {
	t.Helper()
	if w.Code != nethttp.StatusAccepted {
		t.Fatalf("status %d, want 202; body: %s", w.Code, w.Body)
	}
	got := rec.events()
	if len(got) != n {
		t.Fatalf("%d events stored, want %d", len(got), n)
	}
	return got
}

// attrs returns every attribute and extension an event has, as canonical
// strings (datacontenttype included).
func attrs(e *ce.Event) map[string]string {
	m := map[string]string{}
	names := []string{"specversion", "id", "source", "type", "subject", "time", "datacontenttype", "dataschema"}
	for k := range e.Extensions() {
		names = append(names, k)
	}
	for _, n := range names {
		if v, ok := ebevent.Attr(e, n); ok {
			m[n] = v
		}
	}
	return m
}

// diffMaps describes how got differs from want, or returns "".
func diffMaps(got, want map[string]string) string {
	var b strings.Builder
	keys := map[string]bool{}
	for k := range got {
		keys[k] = true
	}
	for k := range want {
		keys[k] = true
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	for _, k := range sorted {
		g, gok := got[k]
		w, wok := want[k]
		switch {
		case !gok:
			b.WriteString("\n  missing " + k + " = " + quote(w))
		case !wok:
			b.WriteString("\n  unexpected " + k + " = " + quote(g))
		case g != w:
			b.WriteString("\n  " + k + " = " + quote(g) + ", want " + quote(w))
		}
	}
	return b.String()
}

func quote(s string) string { b, _ := json.Marshal(s); return string(b) }

// readFixture reads a file under testdata.
func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// globFixtures lists files under testdata matching pattern, sorted.
func globFixtures(t testing.TB, pattern string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join("testdata", filepath.FromSlash(pattern)))
	if err != nil || len(m) == 0 {
		t.Fatalf("no fixtures match %s (%v)", pattern, err)
	}
	sort.Strings(m)
	return m
}

// sameJSON reports whether a and b are the same JSON value.
func sameJSON(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	ja, _ := json.Marshal(x)
	jb, _ := json.Marshal(y)
	return bytes.Equal(ja, jb)
}

// withBody returns a copy of req with another body.
func withBody(req *nethttp.Request, body string) *nethttp.Request {
	r := post(body)
	r.Header = req.Header
	return r
}
