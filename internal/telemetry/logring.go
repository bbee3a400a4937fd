package telemetry

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// LogLine is one log line the bridge wrote, kept for GET /v1/logs.
type LogLine struct {
	Time      time.Time
	Level     slog.Level
	Component string
	// JSON is the line in slog's JSON form (one object, no newline).
	JSON []byte
}

// LogRing keeps the most recent log lines in memory and hands new ones to
// followers. Logging never waits for a follower: a follower whose buffer is
// full loses the line, and the loss is counted. Safe for concurrent use.
type LogRing struct {
	mu      sync.Mutex
	lines   []LogLine // circular, cap = size
	next    int
	full    bool
	follows map[*LogFollower]struct{}
}

// NewLogRing keeps the last size lines.
func NewLogRing(size int) *LogRing {
	if size < 1 {
		size = 1
	}
	return &LogRing{lines: make([]LogLine, size), follows: map[*LogFollower]struct{}{}}
}

func (r *LogRing) add(l LogLine) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines[r.next] = l
	r.next++
	if r.next == len(r.lines) {
		r.next, r.full = 0, true
	}
	for f := range r.follows {
		if f.keep != nil && !f.keep(l) {
			continue
		}
		select {
		case f.c <- l:
		default:
			f.dropped.Add(1)
		}
	}
}

// Recent returns the lines kept, oldest first, that keep says to keep.
func (r *LogRing) Recent(keep func(LogLine) bool) []LogLine {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []LogLine
	add := func(ls []LogLine) {
		for _, l := range ls {
			if keep == nil || keep(l) {
				out = append(out, l)
			}
		}
	}
	if r.full {
		add(r.lines[r.next:])
	}
	add(r.lines[:r.next])
	return out
}

// LogFollower receives the lines logged after it was made, until Close.
type LogFollower struct {
	C       <-chan LogLine
	c       chan LogLine
	dropped atomic.Int64
	ring    *LogRing
	keep    func(LogLine) bool
}

// Follow returns a follower with a buffer of buf lines, and the lines kept
// so far, taken under the same lock as the registration: no line is lost
// or repeated between the two. Only lines that keep says to keep (nil: all)
// are returned and followed; keep must be quick (it runs as lines are
// logged).
func (r *LogRing) Follow(buf int, keep func(LogLine) bool) (*LogFollower, []LogLine) {
	c := make(chan LogLine, buf)
	f := &LogFollower{C: c, c: c, ring: r, keep: keep}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.follows[f] = struct{}{}
	var out []LogLine
	add := func(ls []LogLine) {
		for _, l := range ls {
			if keep == nil || keep(l) {
				out = append(out, l)
			}
		}
	}
	if r.full {
		add(r.lines[r.next:])
	}
	add(r.lines[:r.next])
	return f, out
}

// Dropped returns how many lines the follower lost because its buffer was
// full.
func (f *LogFollower) Dropped() int64 { return f.dropped.Load() }

// Close stops the follower.
func (f *LogFollower) Close() {
	f.ring.mu.Lock()
	delete(f.ring.follows, f)
	f.ring.mu.Unlock()
}

// ringHandler formats records as JSON lines into a ring. Attributes and
// groups added with WithAttrs/WithGroup are replayed onto a fresh JSON
// handler for each record, so that each record is formatted on its own.
type ringHandler struct {
	ring      *LogRing
	component string
	ops       []func(slog.Handler) slog.Handler
}

func (h *ringHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *ringHandler) Handle(ctx context.Context, r slog.Record) error {
	var buf bytes.Buffer
	var jh slog.Handler = slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})
	for _, op := range h.ops {
		jh = op(jh)
	}
	if err := jh.Handle(ctx, r); err != nil {
		return err
	}
	h.ring.add(LogLine{Time: r.Time, Level: r.Level, Component: h.component, JSON: bytes.TrimRight(buf.Bytes(), "\n")})
	return nil
}

func (h *ringHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	n := &ringHandler{ring: h.ring, component: h.component, ops: append(h.ops[:len(h.ops):len(h.ops)], func(x slog.Handler) slog.Handler { return x.WithAttrs(attrs) })}
	for _, a := range attrs {
		if a.Key == "component" {
			n.component = a.Value.String()
		}
	}
	return n
}

func (h *ringHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return &ringHandler{ring: h.ring, component: h.component, ops: append(h.ops[:len(h.ops):len(h.ops)], func(x slog.Handler) slog.Handler { return x.WithGroup(name) })}
}

// teeHandler hands each record to two handlers.
type teeHandler struct{ a, b slog.Handler }

func (t teeHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return t.a.Enabled(ctx, l) || t.b.Enabled(ctx, l)
}

func (t teeHandler) Handle(ctx context.Context, r slog.Record) error {
	var err error
	if t.a.Enabled(ctx, r.Level) {
		err = t.a.Handle(ctx, r.Clone())
	}
	if t.b.Enabled(ctx, r.Level) {
		_ = t.b.Handle(ctx, r)
	}
	return err
}

func (t teeHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return teeHandler{t.a.WithAttrs(attrs), t.b.WithAttrs(attrs)}
}

func (t teeHandler) WithGroup(name string) slog.Handler {
	return teeHandler{t.a.WithGroup(name), t.b.WithGroup(name)}
}
