package api

import (
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/api/problem"
	"github.com/eventbridge-dev/eventbridge/internal/telemetry"
)

// logsParams are the query parameters GET /v1/logs knows.
var logsParams = map[string]bool{"level": true, "component": true, "since": true, "tail": true, "follow": true}

// logFollowBuffer is how many lines a follower may lag behind before it
// loses lines (logging never waits for a reader).
const logFollowBuffer = 512

func (a *API) registerLogs(mux *http.ServeMux) {
	a.handle(mux, "GET /v1/logs", ScopeRead, a.streamLogs)
}

// logQuery is the filter of GET /v1/logs.
type logQuery struct {
	level     slog.Level
	component string
	since     time.Time
	tail      int // -1: all kept
	follow    bool
}

func parseLogQuery(r *http.Request, now time.Time) (logQuery, *problem.Problem) {
	if p := refuseUnknownParams(r, logsParams); p != nil {
		return logQuery{}, p
	}
	q := r.URL.Query()
	lq := logQuery{level: slog.LevelDebug, component: q.Get("component"), tail: -1}
	var errs []problem.FieldError
	if v := q.Get("level"); v != "" {
		if err := lq.level.UnmarshalText([]byte(v)); err != nil {
			errs = append(errs, problem.FieldError{Field: "level", Reason: "use debug, info, warn or error"})
		}
	}
	if v := q.Get("since"); v != "" {
		if d, err := time.ParseDuration(v); err == nil && d >= 0 {
			lq.since = now.Add(-d)
		} else if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
			lq.since = t
		} else {
			errs = append(errs, problem.FieldError{Field: "since", Reason: "not a duration (10m) nor an RFC 3339 time"})
		}
	}
	if v := q.Get("tail"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			errs = append(errs, problem.FieldError{Field: "tail", Reason: "not a number of lines (0 or more)"})
		}
		lq.tail = n
	}
	if v := q.Get("follow"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, problem.FieldError{Field: "follow", Reason: "use true or false"})
		}
		lq.follow = b
	}
	if len(errs) > 0 {
		return lq, problem.New(problem.InvalidRequest, "bad query").WithErrors(errs...)
	}
	return lq, nil
}

// keep tells whether a line passes the filter.
func (lq logQuery) keep(l telemetry.LogLine) bool {
	if l.Level < lq.level || (!lq.since.IsZero() && l.Time.Before(lq.since)) {
		return false
	}
	switch c := lq.component; {
	case c == "":
		return true
	case strings.HasSuffix(c, "/"):
		return strings.HasPrefix(l.Component, c)
	default:
		return l.Component == c
	}
}

// streamLogs serves the bridge's own recent log lines as newline-delimited
// JSON (slog's JSON form, one object a line), oldest first; with
// follow=true it goes on with new lines until the client leaves. A follower
// too slow to keep up loses lines rather than slow the bridge down: a line
// {"msg":"log lines dropped","dropped":N} says how many.
func (a *API) streamLogs(w http.ResponseWriter, r *http.Request) {
	lq, perr := parseLogQuery(r, time.Now())
	if perr != nil {
		perr.Write(w, r)
		return
	}
	if a.deps.Logs == nil {
		problem.Write(w, r, problem.Unavailable, "this bridge keeps no log lines")
		return
	}
	ring := a.deps.Logs.Ring()
	var (
		backlog []telemetry.LogLine
		f       *telemetry.LogFollower
	)
	if lq.follow {
		f, backlog = ring.Follow(logFollowBuffer, lq.keep)
		defer f.Close()
	} else {
		backlog = ring.Recent(lq.keep)
	}
	if lq.tail >= 0 && len(backlog) > lq.tail {
		backlog = backlog[len(backlog)-lq.tail:]
	}
	flusher, _ := w.(http.Flusher)
	h := w.Header()
	h.Set("Content-Type", "application/x-ndjson")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	write := func(l telemetry.LogLine) bool {
		_, err := w.Write(append(l.JSON[:len(l.JSON):len(l.JSON)], '\n'))
		return err == nil
	}
	for _, l := range backlog {
		if !write(l) {
			return
		}
	}
	if flusher != nil {
		flusher.Flush()
	}
	if f == nil {
		return
	}
	// A slow reader would otherwise block the HTTP server's write, not
	// logging: the follower's buffer absorbs bursts, and beyond it lines
	// are dropped and counted.
	reported := int64(0)
	tick := time.NewTicker(15 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
			if flusher != nil {
				flusher.Flush()
			}
		case l := <-f.C:
			if n := f.Dropped(); n > reported {
				_, err := fmt.Fprintf(w, `{"time":%q,"level":"WARN","msg":"log lines dropped (reader too slow)","dropped":%d}`+"\n",
					time.Now().UTC().Format(time.RFC3339Nano), n-reported)
				if err != nil {
					return
				}
				reported = n
			}
			if !write(l) {
				return
			}
			if len(f.C) == 0 && flusher != nil {
				flusher.Flush()
			}
		}
	}
}
