package api

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/eventbridge-dev/eventbridge/internal/api/problem"
	"github.com/eventbridge-dev/eventbridge/internal/bus"
)

// refuseUnknownParams is a 400 naming every query parameter of r that is
// not in known.
func refuseUnknownParams(r *http.Request, known map[string]bool) *problem.Problem {
	var unknown []string
	for k := range r.URL.Query() {
		if !known[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	slices.Sort(unknown)
	p := problem.New(problem.InvalidRequest, "unknown query parameter "+strings.Join(unknown, ", "))
	for _, k := range unknown {
		p.WithErrors(problem.FieldError{Field: k, Reason: "unknown query parameter"})
	}
	return p
}

// readArchiveDesc reads up to limit events matching eq, newest first,
// with sequences below before (0: from the newest); the next page token is
// the last sequence returned. JetStream reads only forward, so the archive
// is read in windows walked back from the end; the consumers' pending
// counts say how many candidates a window holds, so a window without any
// costs one request and a window is not waited on once they are read.
func (a *API) readArchiveDesc(ctx context.Context, eq eventQuery, before uint64, limit int) ([]ArchivedEvent, uint64, error) {
	first, hi, err := a.deps.Archive.Bounds(ctx)
	if err != nil {
		return nil, 0, err
	}
	out := []ArchivedEvent{}
	if before > 0 {
		hi = min(hi, before-1)
	}
	if hi == 0 || hi < first {
		return out, 0, nil
	}
	// Candidates after hi, so a window's own count is its pending minus this.
	_, above, _, err := a.scanWindow(ctx, eq, hi+1, hi, 0)
	if err != nil {
		return nil, 0, err
	}
	window := uint64(max(limit*4, 256))
	for {
		lo := first
		if hi-first >= window {
			lo = hi - window + 1
		}
		items, pending, older, err := a.scanWindow(ctx, eq, lo, hi, above)
		if err != nil {
			return nil, 0, err
		}
		for i := len(items) - 1; i >= 0; i-- {
			if len(out) == limit {
				return out, out[limit-1].Seq, nil
			}
			out = append(out, items[i])
		}
		if older || lo == first {
			return out, 0, nil
		}
		hi, above = lo-1, pending
	}
}

// scanWindow reads, oldest first, the events matching eq with sequences
// lo..hi, given that above candidates of eq's subject lie after hi. It
// returns the candidates from lo to the end of the archive, and whether it
// met an event stored before eq.from (so older windows need no reading).
func (a *API) scanWindow(ctx context.Context, eq eventQuery, lo, hi, above uint64) ([]ArchivedEvent, uint64, bool, error) {
	var items []ArchivedEvent
	older := false
	pending, err := a.deps.Archive.Window(ctx, eq.subject(), lo, hi, above, func(m *bus.Archived) {
		switch {
		case !eq.from.IsZero() && m.Stored.Before(eq.from):
			older = true
			return
		case !eq.to.IsZero() && m.Stored.After(eq.to):
			return
		}
		if item, ok := eq.item(m); ok {
			items = append(items, item)
		}
	})
	if err != nil {
		return nil, 0, false, err
	}
	return items, pending, older, nil
}
