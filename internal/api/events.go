package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/api/problem"
	"github.com/eventbridge-dev/eventbridge/internal/bus"
	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
	"github.com/eventbridge-dev/eventbridge/internal/eventtypes"
)

// ArchivedEvent is one event of the archive (the EVENTS stream).
type ArchivedEvent struct {
	// Seq is its sequence in the archive.
	Seq uint64 `json:"seq"`
	// Stored is when the bus stored it.
	Stored time.Time `json:"stored"`
	// SourceName is the source resource that ingested it.
	SourceName string         `json:"source_name"`
	Event      map[string]any `json:"event"`
}

// EventList is a page of archived events.
type EventList struct {
	Items []ArchivedEvent `json:"items"`
	// NextPageToken, when set, fetches the next page (page_token=…).
	NextPageToken string `json:"next_page_token,omitempty"`
}

// EventTypeList is the event-type eventtypes.
type EventTypeList struct {
	Items []eventtypes.EventType `json:"items"`
	// Overflow counts events whose type did not fit in the eventtypes.
	Overflow int64 `json:"overflow,omitempty"`
}

func (a *API) registerEvents(mux *http.ServeMux) {
	a.handle(mux, "GET /v1/events", ScopeRead, a.listEvents)
	a.handle(mux, "GET /v1/events:stream", ScopeRead, a.streamEvents)
	a.handle(mux, "GET /v1/eventtypes", ScopeRead, a.listEventTypes)
}

func (a *API) listEventTypes(w http.ResponseWriter, r *http.Request) {
	out := EventTypeList{Items: []eventtypes.EventType{}}
	if a.deps.Catalog != nil {
		out.Items, out.Overflow = a.deps.Catalog.List()
	}
	writeJSON(w, http.StatusOK, out)
}

// eventQuery is the filter of GET /v1/events and /v1/events:stream.
type eventQuery struct {
	source, typ, sourceName string
	from, to                time.Time
}

func parseEventQuery(r *http.Request) (eventQuery, *problem.Problem) {
	q := r.URL.Query()
	eq := eventQuery{source: q.Get("source"), typ: q.Get("type"), sourceName: q.Get("source_name")}
	var errs []problem.FieldError
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &eq.from}, {"to", &eq.to}} {
		if v := q.Get(p.name); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				errs = append(errs, problem.FieldError{Field: p.name, Reason: "not an RFC 3339 time"})
			}
			*p.dst = t
		}
	}
	if len(errs) > 0 {
		return eq, problem.New(problem.InvalidRequest, "bad query").WithErrors(errs...)
	}
	return eq, nil
}

// subject narrows the archive read to the source resource and type.
func (eq eventQuery) subject() string {
	return bus.EventFilter(eq.sourceName, eq.typ)
}

// listEventsParams are the query parameters GET /v1/events knows; it
// refuses others, so a misspelt one is not silently ignored.
var listEventsParams = map[string]bool{
	"source": true, "type": true, "source_name": true, "from": true, "to": true,
	"limit": true, "page_token": true, "order": true,
}

func (a *API) listEvents(w http.ResponseWriter, r *http.Request) {
	if perr := refuseUnknownParams(r, listEventsParams); perr != nil {
		perr.Write(w, r)
		return
	}
	eq, perr := parseEventQuery(r)
	if perr != nil {
		perr.Write(w, r)
		return
	}
	desc := false
	switch o := r.URL.Query().Get("order"); o {
	case "", "asc":
	case "desc":
		desc = true
	default:
		problem.New(problem.InvalidRequest, "order: "+strconv.Quote(o)+" is not asc or desc").
			WithErrors(problem.FieldError{Field: "order", Reason: "use asc or desc"}).Write(w, r)
		return
	}
	limit, perr := queryLimit(r.URL.Query().Get("limit"), 100)
	if perr != nil {
		perr.Write(w, r)
		return
	}
	var after uint64
	if s := r.URL.Query().Get("page_token"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			problem.New(problem.InvalidRequest, "page_token: not a token from a previous page").Write(w, r)
			return
		}
		after = n
	}
	read := a.readArchive
	if desc {
		read = a.readArchiveDesc
	}
	items, next, err := read(r.Context(), eq, after, limit)
	if err != nil {
		problem.Write(w, r, problem.Unavailable, err.Error())
		return
	}
	out := EventList{Items: items}
	if next > 0 {
		out.NextPageToken = strconv.FormatUint(next, 10)
	}
	writeJSON(w, http.StatusOK, out)
}

// readArchive reads up to limit events matching eq, after sequence after.
func (a *API) readArchive(ctx context.Context, eq eventQuery, after uint64, limit int) ([]ArchivedEvent, uint64, error) {
	out := []ArchivedEvent{}
	var next uint64
	sc := bus.Scan{Subjects: []string{eq.subject()}, FromSeq: after + 1, Batch: min(limit*2, 500), Wait: 500 * time.Millisecond}
	if after == 0 {
		sc.FromSeq, sc.FromTime = 0, eq.from
	}
	err := a.deps.Archive.Scan(ctx, sc, func(m *bus.Archived) error {
		if !eq.to.IsZero() && m.Stored.After(eq.to) {
			return bus.ErrStopScan
		}
		item, ok := eq.item(m)
		if !ok {
			return nil
		}
		if len(out) == limit {
			next = out[len(out)-1].Seq
			return bus.ErrStopScan
		}
		out = append(out, item)
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return out, next, nil
}

// item is the ArchivedEvent of m when m matches eq's event attributes.
func (eq eventQuery) item(m *bus.Archived) (ArchivedEvent, bool) {
	ev, err := bus.DecodeEvent(m.Data)
	if err != nil || (eq.source != "" && ev.Source() != eq.source) || (eq.typ != "" && ev.Type() != eq.typ) {
		return ArchivedEvent{}, false
	}
	return ArchivedEvent{Seq: m.Seq, Stored: m.Stored.UTC(), SourceName: m.Source, Event: ebevent.Form(ev)}, true
}

// streamEvents serves live events as Server-Sent Events: one "data:" line
// of JSON (the event's JSON form) per event, a comment every 15s.
func (a *API) streamEvents(w http.ResponseWriter, r *http.Request) {
	eq, perr := parseEventQuery(r)
	if perr != nil {
		perr.Write(w, r)
		return
	}
	flusher, ok := w.(http.Flusher)
	if !ok || a.deps.Archive == nil {
		problem.Write(w, r, problem.Internal, "streaming is not available")
		return
	}
	sub, err := a.deps.Archive.Watch(eq.subject(), 256)
	if err != nil {
		problem.Write(w, r, problem.Unavailable, err.Error())
		return
	}
	defer sub.Close()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	_, _ = fmt.Fprint(w, ": eventbridge live events\n\n")
	flusher.Flush()
	tick := time.NewTicker(15 * time.Second)
	defer tick.Stop()
	reported := 0
	for {
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
			// A slow reader loses events (the subscription drops what it
			// cannot hold); say so rather than hide it.
			if n, err := sub.Dropped(); err == nil && n > reported {
				_, _ = fmt.Fprintf(w, ": dropped %d events (reader too slow)\n\n", n-reported)
				reported = n
			}
			_, _ = fmt.Fprint(w, ": keep-alive\n\n")
			flusher.Flush()
		case m := <-sub.C:
			ev, err := bus.DecodeEvent(m.Data)
			if err != nil || (eq.source != "" && ev.Source() != eq.source) || (eq.typ != "" && ev.Type() != eq.typ) {
				continue
			}
			b, err := json.Marshal(ebevent.Form(ev))
			if err != nil {
				continue
			}
			if _, err := fmt.Fprintf(w, "id: %s\nevent: cloudevent\ndata: %s\n\n", m.Key, b); err != nil {
				return
			}
			flusher.Flush()
		}
	}
}
