package testkit

import (
	"context"
	"log/slog"
	"strings"
	"sync"
)

// LogRecorder is a slog.Handler that keeps every record, so that a test
// can assert what was logged (and how many times). Safe for concurrent
// use.
type LogRecorder struct {
	mu      sync.Mutex
	records []LogRecord
}

// LogRecord is a record a LogRecorder kept: level, message and attributes
// (those of the logger's With included).
type LogRecord struct {
	Level   slog.Level
	Message string
	Attrs   map[string]slog.Value
}

// Logger returns a logger that writes to r.
func (r *LogRecorder) Logger() *slog.Logger { return slog.New(&recordingHandler{r: r}) }

// Records returns the records whose message contains substr, oldest first.
func (r *LogRecorder) Records(substr string) []LogRecord {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []LogRecord
	for _, rec := range r.records {
		if strings.Contains(rec.Message, substr) {
			out = append(out, rec)
		}
	}
	return out
}

// Count is the number of records whose message contains substr.
func (r *LogRecorder) Count(substr string) int { return len(r.Records(substr)) }

type recordingHandler struct {
	r     *LogRecorder
	attrs []slog.Attr
}

func (h *recordingHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *recordingHandler) Handle(_ context.Context, rec slog.Record) error {
	lr := LogRecord{Level: rec.Level, Message: rec.Message, Attrs: map[string]slog.Value{}}
	for _, a := range h.attrs {
		lr.Attrs[a.Key] = a.Value.Resolve()
	}
	rec.Attrs(func(a slog.Attr) bool {
		lr.Attrs[a.Key] = a.Value.Resolve()
		return true
	})
	h.r.mu.Lock()
	h.r.records = append(h.r.records, lr)
	h.r.mu.Unlock()
	return nil
}

func (h *recordingHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &recordingHandler{r: h.r, attrs: append(append([]slog.Attr(nil), h.attrs...), as...)}
}

// WithGroup is not needed by the tests: attributes stay flat.
func (h *recordingHandler) WithGroup(string) slog.Handler { return h }

var _ slog.Handler = (*recordingHandler)(nil)
