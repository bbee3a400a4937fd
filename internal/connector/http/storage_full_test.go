package http

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
	"github.com/eventbridge-dev/eventbridge/internal/connector/intake"
)

// A bus with no storage left is answered 507 with a storage-full problem
// and a Retry-After, not the 503 of a bus that is down.
func TestIngestStorageFull(t *testing.T) {
	src, rec := newTestSource(t, nil)
	rec.err = fmt.Errorf("bus: publish: %w: the disk of data_dir /data has 1.0MiB free", bus.ErrStorageFull)
	w := serve(src, post(`{"a":1}`, binaryHeaders("Content-Type", "application/json")...))
	p := readProblem(t, w, 507)
	if p.Code != "storage-full" || p.Type == "" {
		t.Errorf("problem %+v, want code storage-full", p)
	}
	if ra, err := strconv.Atoi(w.Header().Get("Retry-After")); err != nil || ra != StorageFullRetryAfter {
		t.Errorf("Retry-After %q, want %d", w.Header().Get("Retry-After"), StorageFullRetryAfter)
	}
}

// A bus without a stream leader (a NATS node lost) is answered 503 with
// the bus's Retry-After; the bus logs the outage, the source does not log
// each request.
func TestIngestBusUnavailable(t *testing.T) {
	src, rec := newTestSource(t, nil)
	logs := &lineCounter{}
	src.log = slog.New(logs)
	src.fails = intake.NewFailures(src.log, "")
	rec.err = fmt.Errorf("bus: publish: %w: no response from stream", bus.ErrUnavailable)
	for range 3 {
		w := serve(src, post(`{"a":1}`, binaryHeaders("Content-Type", "application/json")...))
		p := readProblem(t, w, 503)
		if p.Code != "unavailable" {
			t.Errorf("problem %+v, want code unavailable", p)
		}
		if ra, err := strconv.Atoi(w.Header().Get("Retry-After")); err != nil || ra != bus.UnavailableRetryAfter {
			t.Errorf("Retry-After %q, want %d", w.Header().Get("Retry-After"), bus.UnavailableRetryAfter)
		}
	}
	if n := logs.n.Load(); n != 0 {
		t.Errorf("the source logged %d lines for an unavailable bus", n)
	}
	// Any other failure is logged, once for a series of them, and once
	// when a request is stored again.
	rec.err = errors.New("bus: publish: something else")
	for range 3 {
		w := serve(src, post(`{"a":1}`, binaryHeaders("Content-Type", "application/json")...))
		readProblem(t, w, 503)
	}
	if n := logs.n.Load(); n != 1 {
		t.Errorf("the source logged %d lines for 3 other failures, want 1", n)
	}
	rec.err = nil
	for range 2 {
		if w := serve(src, post(`{"a":1}`, binaryHeaders("Content-Type", "application/json")...)); w.Code != 202 {
			t.Fatalf("status %d after the failures", w.Code)
		}
	}
	if n := logs.n.Load(); n != 2 {
		t.Errorf("the source logged %d lines after recovering, want 2", n)
	}
}

// lineCounter is a slog.Handler that counts the lines logged.
type lineCounter struct{ n atomic.Int64 }

func (c *lineCounter) Enabled(context.Context, slog.Level) bool { return true }
func (c *lineCounter) Handle(context.Context, slog.Record) error {
	c.n.Add(1)
	return nil
}
func (c *lineCounter) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c *lineCounter) WithGroup(string) slog.Handler      { return c }
