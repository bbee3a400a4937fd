// Package sink is the benchmark's receiving end: an HTTP handler that
// accepts every CloudEvent, records its end-to-end latency (arrival time
// minus the event's time attribute, which the load generator sets to the
// intended send time) and counts events and duplicate ids.
package sink

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/eventbridge-dev/eventbridge/bench/internal/histogram"
)

// maxStructuredBody bounds how much of a structured-mode body is read.
const maxStructuredBody = 4 << 20

// Sink records what arrives. It is safe for concurrent use.
type Sink struct {
	latency histogram.Histogram
	count   atomic.Uint64
	dups    atomic.Uint64
	noTime  atomic.Uint64
	stale   atomic.Uint64
	// only, when set, is the id prefix of the events counted: others are
	// only counted as stale (see ResetFor).
	only  atomic.Pointer[string]
	first atomic.Int64 // unix ns of the first arrival since reset
	last  atomic.Int64 // unix ns of the latest arrival
	ids   idSet
}

// New returns an empty Sink.
func New() *Sink {
	s := &Sink{}
	s.ids.init()
	return s
}

// Handler serves:
//
//	POST /reset   forget everything recorded; 204
//	POST /...     any other path: one event (or a batch); 204 No Content
//	GET  /stats   the Stats as JSON
//	GET  /readyz  200 once serving
//
// Binary mode reads ce-id, ce-source and ce-time from headers; structured
// (application/cloudevents+json) and batch (application/cloudevents-batch+json)
// modes read id, source and time from the JSON body.
func (s *Sink) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /", s.serveEvent)
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(s.Stats())
	})
	mux.HandleFunc("POST /reset", func(w http.ResponseWriter, _ *http.Request) {
		s.Reset()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
	})
	return mux
}

func (s *Sink) serveEvent(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	ct := r.Header.Get("Content-Type")
	if !strings.HasPrefix(ct, "application/cloudevents") {
		_, _ = io.Copy(io.Discard, r.Body)
		s.Record(now, r.Header.Get("Ce-Source"), r.Header.Get("Ce-Id"), r.Header.Get("Ce-Time"))
		w.WriteHeader(http.StatusNoContent)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxStructuredBody))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var events []structured
	if strings.HasPrefix(ct, "application/cloudevents-batch") {
		err = json.Unmarshal(body, &events)
	} else {
		events = make([]structured, 1)
		err = json.Unmarshal(body, &events[0])
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	for _, e := range events {
		s.Record(now, e.Source, e.ID, e.Time)
	}
	w.WriteHeader(http.StatusNoContent)
}

// structured holds the attributes the sink reads from a JSON-format event.
type structured struct {
	ID     string `json:"id"`
	Source string `json:"source"`
	Time   string `json:"time"`
}

// Record counts one event that arrived at now, with its source, id and time
// attribute (RFC 3339; an unparsable one is counted in NoTime). Consumers of
// other transports than HTTP (the broker scenarios) call it directly.
func (s *Sink) Record(now time.Time, source, id, ts string) {
	if p := s.only.Load(); p != nil && !strings.HasPrefix(id, *p) {
		s.stale.Add(1)
		return
	}
	s.count.Add(1)
	ns := now.UnixNano()
	s.first.CompareAndSwap(0, ns)
	for {
		l := s.last.Load()
		if ns <= l || s.last.CompareAndSwap(l, ns) {
			break
		}
	}
	if t, err := time.Parse(time.RFC3339Nano, ts); err == nil {
		s.latency.Record(int64(now.Sub(t)))
	} else {
		s.noTime.Add(1)
	}
	if !s.ids.add(source, id) {
		s.dups.Add(1)
	}
}

// ResetFor forgets every event recorded so far, and from now on counts only
// events whose id starts with prefix ("": all). The others, events of an
// earlier run that a middlebox delivered late, are only counted as Stale:
// their latency would be that of the earlier run.
func (s *Sink) ResetFor(prefix string) {
	s.Reset()
	if prefix == "" {
		s.only.Store(nil)
	} else {
		s.only.Store(&prefix)
	}
}

// Reset forgets every event recorded so far.
func (s *Sink) Reset() {
	s.stale.Store(0)
	s.latency.Reset()
	s.count.Store(0)
	s.dups.Store(0)
	s.noTime.Store(0)
	s.first.Store(0)
	s.last.Store(0)
	s.ids.reset()
}
