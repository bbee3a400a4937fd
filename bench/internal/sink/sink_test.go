package sink

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func post(t *testing.T, h http.Handler, header map[string]string, body string) int {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rr := httptest.NewRecorder()
	h.ServeHTTP(rr, req)
	return rr.Code
}

func stats(t *testing.T, h http.Handler) Stats {
	t.Helper()
	rr := httptest.NewRecorder()
	h.ServeHTTP(rr, httptest.NewRequest(http.MethodGet, "/stats", nil))
	var st Stats
	if err := json.Unmarshal(rr.Body.Bytes(), &st); err != nil {
		t.Fatalf("stats: %v: %s", err, rr.Body)
	}
	return st
}

func TestBinaryModeLatencyAndDuplicates(t *testing.T) {
	s := New()
	h := s.Handler()
	sent := time.Now().Add(-20 * time.Millisecond).UTC().Format(time.RFC3339Nano)
	bin := func(id string) map[string]string {
		return map[string]string{"Ce-Id": id, "Ce-Source": "/s", "Ce-Time": sent, "Content-Type": "application/json"}
	}
	for _, id := range []string{"a", "b", "a"} {
		if code := post(t, h, bin(id), `{"x":1}`); code != http.StatusNoContent {
			t.Fatalf("status %d", code)
		}
	}
	// Same id from another source is a different event.
	other := bin("a")
	other["Ce-Source"] = "/other"
	post(t, h, other, `{}`)

	st := stats(t, h)
	if st.Count != 4 || st.Duplicates != 1 || st.Unique() != 3 || st.NoTime != 0 {
		t.Fatalf("stats = %+v", st)
	}
	if st.P50 < 20 || st.Max < 20 || st.Unit != "ms" {
		t.Fatalf("latency %v ms, want ≥ 20 ms", st.P50)
	}
	if st.FirstUnixNano == 0 || st.LastUnixNano < st.FirstUnixNano {
		t.Fatalf("arrival times %d..%d", st.FirstUnixNano, st.LastUnixNano)
	}
}

func TestStructuredAndBatchModes(t *testing.T) {
	s := New()
	h := s.Handler()
	ts := time.Now().Add(-5 * time.Millisecond).UTC().Format(time.RFC3339Nano)
	ev := `{"specversion":"1.0","id":"1","source":"/s","type":"t","time":"` + ts + `","data":{"k":"v"}}`
	post(t, h, map[string]string{"Content-Type": "application/cloudevents+json; charset=utf-8"}, ev)
	post(t, h, map[string]string{"Content-Type": "application/cloudevents-batch+json"}, "["+ev+`,{"id":"2","source":"/s"}]`)
	if code := post(t, h, map[string]string{"Content-Type": "application/cloudevents+json"}, "{"); code != http.StatusBadRequest {
		t.Fatalf("bad JSON answered %d", code)
	}
	st := stats(t, h)
	if st.Count != 3 || st.Duplicates != 1 || st.NoTime != 1 || st.P50 < 5 {
		t.Fatalf("stats = %+v", st)
	}
}

func TestReset(t *testing.T) {
	s := New()
	h := s.Handler()
	post(t, h, map[string]string{"Ce-Id": "x", "Ce-Source": "/s"}, "")
	rr := httptest.NewRecorder()
	h.ServeHTTP(rr, httptest.NewRequest(http.MethodPost, "/reset", nil))
	if rr.Code != http.StatusNoContent {
		t.Fatalf("reset answered %d", rr.Code)
	}
	post(t, h, map[string]string{"Ce-Id": "x", "Ce-Source": "/s"}, "")
	if st := stats(t, h); st.Count != 1 || st.Duplicates != 0 || st.NoTime != 1 {
		t.Fatalf("after reset: %+v", st)
	}
}

func TestRate(t *testing.T) {
	st := Stats{Count: 1001, FirstUnixNano: 1e9, LastUnixNano: 2e9}
	if r := st.Rate(); r != 1000 {
		t.Fatalf("rate = %v, want 1000", r)
	}
	if r := (Stats{Count: 1, FirstUnixNano: 5, LastUnixNano: 5}).Rate(); r != 0 {
		t.Fatalf("rate of one event = %v", r)
	}
}

func BenchmarkBinaryEvent(b *testing.B) {
	s := New()
	now := time.Now()
	ts := now.UTC().Format(time.RFC3339Nano)
	b.ReportAllocs()
	for i := range b.N {
		s.Record(now, "/bench", "id-"+string(rune('a'+i%26)), ts)
	}
}

func TestResetForCountsOnlyTheRunsEvents(t *testing.T) {
	s := New()
	now := time.Now()
	ts := now.Add(-time.Second).UTC().Format(time.RFC3339Nano)
	s.ResetFor("run2-")
	s.Record(now, "/bench", "run1-7", ts) // late, from the earlier run
	s.Record(now, "/bench", "run2-1", now.UTC().Format(time.RFC3339Nano))
	st := s.Stats()
	if st.Count != 1 || st.Stale != 1 || s.Count() != 1 || st.Max >= 1000 {
		t.Fatalf("stats %+v: want the run's event only, one stale", st)
	}
	s.ResetFor("")
	s.Record(now, "/bench", "run1-8", ts)
	if st := s.Stats(); st.Count != 1 || st.Stale != 0 {
		t.Fatalf("after ResetFor(\"\"): %+v", st)
	}
}
