package poll_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
)

// api is a fake paginated JSON API, newest items first, like GitHub's
// issues list. /items pages with Link headers; /cursor pages with a
// next_cursor in the body. The first page carries an ETag and answers
// If-None-Match with 304. Failures can be queued.
type api struct {
	*httptest.Server
	perPage int

	mu       sync.Mutex
	items    []map[string]any // newest first
	version  int              // bumps with every change: the ETag
	fail     []failure        // answers to give before serving, in order
	requests []request
	token    string // when set, requests need "Authorization: Bearer <token>"
}

type failure struct {
	status     int
	retryAfter string
}

type request struct {
	path, query, ifNoneMatch, auth string
	status                         int
}

func newAPI(t *testing.T, n int) *api {
	a := &api{perPage: 2}
	for i := 1; i <= n; i++ {
		a.items = append([]map[string]any{{"id": i, "title": fmt.Sprintf("item %d", i)}}, a.items...)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/items", a.serveLink)
	mux.HandleFunc("/cursor", a.serveCursor)
	a.Server = httptest.NewServer(mux)
	t.Cleanup(a.Close)
	return a
}

// add puts a new item on top.
func (a *api) add(id int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.items = append([]map[string]any{{"id": id, "title": fmt.Sprintf("item %d", id)}}, a.items...)
	a.version++
}

func (a *api) failNext(fs ...failure) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.fail = append(a.fail, fs...)
}

func (a *api) log() []request {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]request(nil), a.requests...)
}

// gate records the request and answers it if it must fail; it reports
// whether the handler should go on.
func (a *api) gate(w http.ResponseWriter, r *http.Request) (page int, ok bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	rq := request{path: r.URL.Path, query: r.URL.RawQuery, ifNoneMatch: r.Header.Get("If-None-Match"), auth: r.Header.Get("Authorization")}
	defer func() { a.requests = append(a.requests, rq) }()
	if a.token != "" && rq.auth != "Bearer "+a.token {
		rq.status = http.StatusUnauthorized
		w.WriteHeader(rq.status)
		return 0, false
	}
	if len(a.fail) > 0 {
		f := a.fail[0]
		a.fail = a.fail[1:]
		if f.retryAfter != "" {
			w.Header().Set("Retry-After", f.retryAfter)
		}
		rq.status = f.status
		http.Error(w, "failing on purpose", f.status)
		return 0, false
	}
	etag := fmt.Sprintf(`"v%d"`, a.version)
	page = 1
	if p := r.URL.Query().Get("page"); p != "" {
		page, _ = strconv.Atoi(p)
	}
	if c := r.URL.Query().Get("cursor"); c != "" {
		page, _ = strconv.Atoi(c)
	}
	if page == 1 {
		w.Header().Set("ETag", etag)
		if rq.ifNoneMatch == etag {
			rq.status = http.StatusNotModified
			w.WriteHeader(rq.status)
			return 0, false
		}
	}
	rq.status = http.StatusOK
	return page, true
}

func (a *api) slice(page int) ([]map[string]any, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	from := (page - 1) * a.perPage
	if from >= len(a.items) {
		return []map[string]any{}, false
	}
	to := min(from+a.perPage, len(a.items))
	return a.items[from:to], to < len(a.items)
}

func (a *api) serveLink(w http.ResponseWriter, r *http.Request) {
	page, ok := a.gate(w, r)
	if !ok {
		return
	}
	items, more := a.slice(page)
	links := fmt.Sprintf(`<%s/items?page=1>; rel="first"`, a.URL)
	if more {
		// The next link in the middle, with the rel among others.
		links = fmt.Sprintf(`<%s/items?page=1>; rel="first", </items?page=%d>; rel="next nofollow", <%s/items?page=99>; rel="last"`, a.URL, page+1, a.URL)
	}
	w.Header().Set("Link", links)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(items)
}

func (a *api) serveCursor(w http.ResponseWriter, r *http.Request) {
	page, ok := a.gate(w, r)
	if !ok {
		return
	}
	items, more := a.slice(page)
	body := map[string]any{"data": items, "next_cursor": nil}
	if more {
		body["next_cursor"] = strconv.Itoa(page + 1)
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(body)
}

// batches is an Ingester that keeps the size of each batch.
type batches struct {
	*connectortest.Collector
	mu    sync.Mutex
	sizes []int
}

func newBatches() *batches { return &batches{Collector: connectortest.NewCollector()} }

func (b *batches) Ingest(ctx context.Context, source string, events []*ce.Event) error {
	err := b.Collector.Ingest(ctx, source, events)
	if err == nil {
		b.mu.Lock()
		b.sizes = append(b.sizes, len(events))
		b.mu.Unlock()
	}
	return err
}

func (b *batches) batchSizes() []int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]int(nil), b.sizes...)
}

func ids(c interface{ Events() []*ce.Event }) []string {
	var out []string
	for _, e := range c.Events() {
		out = append(out, e.ID())
	}
	return out
}
