package telemetry

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
)

// Logs hands out one named logger per component ("router", "source/web",
// "route/r/t") whose level can be changed at run time (GET/PUT
// /v1/loggers). A component logs at its own level if one was set, else at
// the default level. Safe for concurrent use.
type Logs struct {
	base slog.Handler
	def  *slog.LevelVar
	ring *LogRing

	mu     sync.RWMutex
	levels map[string]*slog.LevelVar // set explicitly
	known  map[string]bool           // every name handed out
}

// RecentLogLines is how many log lines Logs keeps in memory for GET
// /v1/logs.
const RecentLogLines = 1000

// NewLogs wraps base (which must accept every level; filtering is done
// here) with def as the default level. Every line logged is also kept in a
// ring of the last RecentLogLines lines (Ring).
func NewLogs(base slog.Handler, def slog.Level) *Logs {
	lv := new(slog.LevelVar)
	lv.Set(def)
	ring := NewLogRing(RecentLogLines)
	base = teeHandler{base, &ringHandler{ring: ring}}
	return &Logs{base: base, def: lv, ring: ring, levels: map[string]*slog.LevelVar{}, known: map[string]bool{}}
}

// Ring returns the recent log lines, and follows new ones.
func (l *Logs) Ring() *LogRing { return l.ring }

// Logger returns the logger of a component.
func (l *Logs) Logger(name string) *slog.Logger {
	l.mu.Lock()
	l.known[name] = true
	l.mu.Unlock()
	// The component's handler is made when it first logs: 10,000 idle
	// routes each have a logger, and most never write a line.
	return slog.New(&levelHandler{logs: l, name: name, lazy: true})
}

// Root returns the logger of the bridge itself (no component).
func (l *Logs) Root() *slog.Logger {
	return slog.New(&levelHandler{h: l.base, logs: l})
}

func (l *Logs) level(name string) slog.Level {
	if name != "" {
		l.mu.RLock()
		lv, ok := l.levels[name]
		l.mu.RUnlock()
		if ok {
			return lv.Level()
		}
	}
	return l.def.Level()
}

// LoggerLevel is a logger and its level, as /v1/loggers shows it.
type LoggerLevel struct {
	Name  string `json:"name"`
	Level string `json:"level"`
	// Default tells whether the level is the default one (not set for this
	// logger).
	Default bool `json:"default"`
}

// List returns every logger handed out, and "*" (the default), sorted.
func (l *Logs) List() []LoggerLevel {
	l.mu.RLock()
	defer l.mu.RUnlock()
	out := []LoggerLevel{{Name: "*", Level: levelName(l.def.Level()), Default: true}}
	names := make([]string, 0, len(l.known))
	for n := range l.known {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		ll := LoggerLevel{Name: n, Level: levelName(l.def.Level()), Default: true}
		if lv, ok := l.levels[n]; ok {
			ll.Level, ll.Default = levelName(lv.Level()), false
		}
		out = append(out, ll)
	}
	return out
}

// SetLevel sets a logger's level; "*" sets the default and clears every
// logger's own level. Prefixes end in "/" ("route/") and set every logger
// under them.
func (l *Logs) SetLevel(name, level string) error {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return fmt.Errorf("level %q: use debug, info, warn or error", level)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case name == "*":
		l.def.Set(lvl)
		l.levels = map[string]*slog.LevelVar{}
	case strings.HasSuffix(name, "/"):
		for n := range l.known {
			if strings.HasPrefix(n, name) {
				lv := new(slog.LevelVar)
				lv.Set(lvl)
				l.levels[n] = lv
			}
		}
	default:
		if !l.known[name] {
			return fmt.Errorf("no logger named %q", name)
		}
		lv := new(slog.LevelVar)
		lv.Set(lvl)
		l.levels[name] = lv
	}
	return nil
}

func levelName(l slog.Level) string { return strings.ToLower(l.String()) }

type levelHandler struct {
	h    slog.Handler // nil until handler() while lazy
	logs *Logs
	name string
	// lazy: h is the base handler with the component attribute, made on
	// first use.
	lazy bool
	once sync.Once
}

// handler returns the handler that writes.
func (h *levelHandler) handler() slog.Handler {
	if !h.lazy {
		return h.h
	}
	h.once.Do(func() { h.h = h.logs.base.WithAttrs([]slog.Attr{slog.String("component", h.name)}) })
	return h.h
}

func (h *levelHandler) Enabled(_ context.Context, lvl slog.Level) bool {
	return lvl >= h.logs.level(h.name)
}

func (h *levelHandler) Handle(ctx context.Context, r slog.Record) error {
	return h.handler().Handle(ctx, r)
}

func (h *levelHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &levelHandler{h: h.handler().WithAttrs(attrs), logs: h.logs, name: h.name}
}

func (h *levelHandler) WithGroup(name string) slog.Handler {
	return &levelHandler{h: h.handler().WithGroup(name), logs: h.logs, name: h.name}
}
