package poll_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	_ "github.com/eventbridge-dev/eventbridge/internal/connector/poll"
	"github.com/eventbridge-dev/eventbridge/internal/jobs"
	"github.com/eventbridge-dev/eventbridge/internal/jobs/jobstest"
	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreAnyFunction("github.com/nats-io/nats-server/v2/server.(*Server).startRateLimitLogExpiration"),
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
	)
}

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

func lastRun(t *testing.T, m *jobs.Manager, name string) *jobs.RunStatus {
	t.Helper()
	info, err := m.Get(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return info.LastRun
}

// waitRuns waits until the API has had n requests.
func waitRuns(t *testing.T, a *api, n int) {
	t.Helper()
	testkit.Eventually(t, 5*time.Second, func() bool { return len(a.log()) >= n }, "%d requests", n)
}

func TestLinkPaginationDedupAndETag(t *testing.T) {
	a := newAPI(t, 5) // ids 5 4 | 3 2 | 1
	clock := jobstest.NewClock(t0)
	m, _ := jobstest.StartManager(t, clock, nil)
	col := newBatches()
	jobstest.StartSource(t, m, "issues", fmt.Sprintf(`{"type":"poll","every":"1m","url":%q,
		"items":".[]","id":".id","subject":".title","event":{"type":"com.example.issue"}}`, a.URL+"/items?page=1&state=all"), col)

	// The first poll runs at start: three pages, one batch each.
	testkit.Eventually(t, 5*time.Second, func() bool { return col.Count() == 5 }, "5 items")
	if got := fmt.Sprint(col.batchSizes()); got != "[2 2 1]" {
		t.Errorf("batches %s, want one per page", got)
	}
	if got := strings.Join(ids(col), ","); got != "5,4,3,2,1" {
		t.Errorf("ids %s", got)
	}
	e := col.Events()[0]
	if e.Type() != "com.example.issue" || e.Source() != a.URL+"/items" || e.Subject() != "item 5" || e.DataContentType() != "application/json" {
		t.Errorf("event %s", e)
	}
	var data map[string]any
	if err := json.Unmarshal(e.Data(), &data); err != nil || data["title"] != "item 5" {
		t.Errorf("data %s", e.Data())
	}
	testkit.Eventually(t, 5*time.Second, func() bool { return lastRun(t, m, "issues") != nil }, "first run recorded")
	if st := lastRun(t, m, "issues"); st.Result != jobs.ResultOK || st.Items != 5 {
		t.Errorf("run %+v", st)
	}

	// Unchanged: the first page answers 304 to the ETag; nothing is emitted.
	jobstest.Advance(t, clock, time.Minute)
	waitRuns(t, a, 4)
	log := a.log()
	if r := log[3]; r.ifNoneMatch != `"v0"` || r.status != http.StatusNotModified {
		t.Errorf("second run's request %+v, want a conditional one answered 304", r)
	}
	testkit.Never(t, 100*time.Millisecond, func() bool { return col.Count() != 5 }, "emitted on a 304")

	// A new item: only it is emitted, though every page is fetched again.
	a.add(6)
	jobstest.Advance(t, clock, time.Minute)
	testkit.Eventually(t, 5*time.Second, func() bool { return col.Count() == 6 }, "the new item")
	testkit.Eventually(t, 5*time.Second, func() bool { return len(a.log()) == 7 }, "three pages fetched")
	testkit.Never(t, 100*time.Millisecond, func() bool { return col.Count() != 6 }, "emitted again")
	if got := ids(col)[5]; got != "6" {
		t.Errorf("new id %s", got)
	}
	// The ETag of that complete run is used next.
	jobstest.Advance(t, clock, time.Minute)
	waitRuns(t, a, 8)
	if r := a.log()[7]; r.ifNoneMatch != `"v1"` || r.status != http.StatusNotModified {
		t.Errorf("request after the change %+v", r)
	}
}

func TestCursorPagination(t *testing.T) {
	a := newAPI(t, 5)
	m, _ := jobstest.StartManager(t, jobstest.NewClock(t0), nil)
	col := newBatches()
	jobstest.StartSource(t, m, "feed", fmt.Sprintf(`{"type":"poll","every":"1m","url":%q,"items":".data[]","id":"\"feed-\\(.id)\"",
		"pagination":{"next":".next_cursor","cursor_param":"cursor"}}`, a.URL+"/cursor?limit=2"), col)
	testkit.Eventually(t, 5*time.Second, func() bool { return col.Count() == 5 }, "5 items")
	var queries []string
	for _, r := range a.log() {
		queries = append(queries, r.query)
	}
	if got := strings.Join(queries, " "); got != "limit=2 cursor=2&limit=2 cursor=3&limit=2" {
		t.Errorf("queries %s", got)
	}
	if got := ids(col)[0]; got != "feed-5" {
		t.Errorf("id %s", got)
	}
}

func TestNextURLFromTheBodyAndMaxPages(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := hits.Add(1)
		// An endless API: every page links to another.
		fmt.Fprintf(w, `{"items":[{"n":%d}],"links":{"next":"/page/%d?x=1"}}`, n, n+1)
	}))
	t.Cleanup(srv.Close)
	clock := jobstest.NewClock(t0)
	m, _ := jobstest.StartManager(t, clock, nil)
	col := newBatches()
	jobstest.StartSource(t, m, "endless", fmt.Sprintf(`{"type":"poll","every":"1m","url":%q,"items":".items[]","id":".n",
		"pagination":{"next":".links.next","max_pages":4}}`, srv.URL+"/page/1"), col)
	testkit.Eventually(t, 5*time.Second, func() bool { return col.Count() == 4 }, "4 pages")
	testkit.Never(t, 100*time.Millisecond, func() bool { return hits.Load() > 4 }, "fetched past max_pages")
}

func TestFailuresBackoffAndRetryAfter(t *testing.T) {
	a := newAPI(t, 2)
	clock := jobstest.NewClock(t0)
	m, _ := jobstest.StartManager(t, clock, nil)
	col := newBatches()
	a.failNext(failure{status: 500})
	jobstest.StartSource(t, m, "flaky", fmt.Sprintf(`{"type":"poll","every":"30s","url":%q,"items":".[]","id":".id",
		"backoff":{"initial":"2s","max":"10s"}}`, a.URL+"/items"), col)
	testkit.Eventually(t, 5*time.Second, func() bool {
		st := lastRun(t, m, "flaky")
		return st != nil && st.Result == jobs.ResultError && strings.Contains(st.Error, "HTTP 500")
	}, "the first poll fails")
	jobstest.Advance(t, clock, time.Second)
	testkit.Never(t, 50*time.Millisecond, func() bool { return len(a.log()) > 1 }, "retried before the backoff")
	clock.Advance(time.Second)
	testkit.Eventually(t, 5*time.Second, func() bool { return col.Count() == 2 }, "the retry succeeds")

	// Rate limited for 2 minutes: the polls due meanwhile are skipped.
	a.add(3)
	a.failNext(failure{status: 429, retryAfter: "120"})
	n := len(a.log())
	jobstest.Advance(t, clock, 30*time.Second)
	testkit.Eventually(t, 5*time.Second, func() bool {
		st := lastRun(t, m, "flaky")
		return len(a.log()) == n+1 && st != nil && st.Result == jobs.ResultError
	}, "429")
	info, _ := m.Get(context.Background(), "flaky")
	if info.NextRun == nil || info.NextRun.Sub(clock.Now()) != 120*time.Second {
		t.Fatalf("next run %v, want in 120s (Retry-After)", info.NextRun)
	}
	for range 3 {
		jobstest.Advance(t, clock, 30*time.Second)
	}
	testkit.Never(t, 100*time.Millisecond, func() bool { return len(a.log()) > n+1 }, "polled before Retry-After")
	clock.Advance(30 * time.Second)
	testkit.Eventually(t, 5*time.Second, func() bool { return col.Count() == 3 }, "polled after Retry-After")
}

func TestStoreFailureKeepsItemsUnseen(t *testing.T) {
	a := newAPI(t, 3)
	clock := jobstest.NewClock(t0)
	m, _ := jobstest.StartManager(t, clock, nil)
	col := newBatches()
	col.Fail(1) // the bus refuses the first page
	jobstest.StartSource(t, m, "s", fmt.Sprintf(`{"type":"poll","every":"1m","url":%q,"items":".[]","id":".id"}`, a.URL+"/items"), col)
	testkit.Eventually(t, 5*time.Second, func() bool {
		st := lastRun(t, m, "s")
		return st != nil && st.Result == jobs.ResultError
	}, "the store fails")
	jobstest.Advance(t, clock, time.Second)
	testkit.Eventually(t, 5*time.Second, func() bool { return col.Count() == 3 }, "every item stored on the retry")
	if col.Distinct() != 3 {
		t.Errorf("ids %v", ids(col))
	}
}

func TestWholeBodyIsOneItemByDefault(t *testing.T) {
	var body atomic.Value
	body.Store(`{"status":"green","load":0.5}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, body.Load())
	}))
	t.Cleanup(srv.Close)
	clock := jobstest.NewClock(t0)
	m, _ := jobstest.StartManager(t, clock, nil)
	col := newBatches()
	jobstest.StartSource(t, m, "status", fmt.Sprintf(`{"type":"poll","every":"1m","url":%q}`, srv.URL+"/status?api_key=s3cret"), col)
	testkit.Eventually(t, 5*time.Second, func() bool { return col.Count() == 1 }, "the body")
	e := col.Events()[0]
	if len(e.ID()) != 32 || e.Source() != srv.URL+"/status" || e.Type() != "dev.eventbridge.poll" {
		t.Errorf("event %s", e)
	}
	jobstest.Advance(t, clock, time.Minute)
	testkit.Never(t, 150*time.Millisecond, func() bool { return col.Count() > 1 }, "the same body emitted twice")
	body.Store(`{"status":"red","load":0.9}`)
	jobstest.Advance(t, clock, time.Minute)
	testkit.Eventually(t, 5*time.Second, func() bool { return col.Count() == 2 }, "the changed body")
}

func TestItemFieldsAndPOST(t *testing.T) {
	var gotBody, gotCT, gotKey string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 100)
		n, _ := r.Body.Read(b)
		gotBody, gotCT, gotKey = string(b[:n]), r.Header.Get("Content-Type"), r.Header.Get("X-Key")
		fmt.Fprint(w, `{"results":[{"uid":12345678901234567890,"at":"2026-02-01T08:00:00Z","kind":"a"},{"uid":2,"at":1767225600,"kind":"b"},{"uid":3,"at":"yesterday"},null]}`)
	}))
	t.Cleanup(srv.Close)
	m, _ := jobstest.StartManager(t, jobstest.NewClock(t0), nil)
	col := newBatches()
	jobstest.StartSource(t, m, "search", fmt.Sprintf(`{"type":"poll","every":"1m","url":%q,"method":"POST","body":"{\"q\":\"x\"}",
		"auth":{"api_key":{"header":"X-Key","value":"k"}},
		"items":".results[]","id":".uid","time":".at","subject":".kind","event":{"source":"/search"}}`, srv.URL), col)
	testkit.Eventually(t, 5*time.Second, func() bool { return col.Count() == 2 }, "two good items (one has a bad time)")
	if gotBody != `{"q":"x"}` || gotCT != "application/json" || gotKey != "k" {
		t.Errorf("request body %q, type %q, key %q", gotBody, gotCT, gotKey)
	}
	es := col.Events()
	if es[0].ID() != "12345678901234567890" || !es[0].Time().Equal(time.Date(2026, 2, 1, 8, 0, 0, 0, time.UTC)) || es[0].Subject() != "a" || es[0].Source() != "/search" {
		t.Errorf("event 0 %s", es[0])
	}
	if !es[1].Time().Equal(time.Unix(1767225600, 0)) {
		t.Errorf("event 1 time %s", es[1].Time())
	}
	if !strings.Contains(string(es[0].Data()), "12345678901234567890") {
		t.Errorf("a big number lost precision in the data: %s", es[0].Data())
	}
}

func TestOAuth2TokenCachedAndRefreshedOn401(t *testing.T) {
	a := newAPI(t, 2)
	var tokens atomic.Int32
	tokenSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := tokens.Add(1)
		_ = r.ParseForm()
		if r.PostForm.Get("scope") != "issues:read" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":"t%d","token_type":"bearer","expires_in":3600}`, n)
	}))
	t.Cleanup(tokenSrv.Close)
	a.mu.Lock()
	a.token = "t1"
	a.mu.Unlock()
	clock := jobstest.NewClock(t0)
	m, _ := jobstest.StartManager(t, clock, nil)
	col := newBatches()
	jobstest.StartSource(t, m, "secure", fmt.Sprintf(`{"type":"poll","every":"1m","url":%q,"items":".[]","id":".id",
		"auth":{"oauth2":{"token_url":%q,"client_id":"c","client_secret":"s","scopes":["issues:read"]}}}`, a.URL+"/items", tokenSrv.URL), col)
	testkit.Eventually(t, 5*time.Second, func() bool { return col.Count() == 2 }, "first poll")
	a.add(3)
	jobstest.Advance(t, clock, time.Minute)
	testkit.Eventually(t, 5*time.Second, func() bool { return col.Count() == 3 }, "second poll")
	if n := tokens.Load(); n != 1 {
		t.Errorf("%d token requests for two polls", n)
	}
	// The API revokes the token: the poll gets a new one and goes on.
	a.mu.Lock()
	a.token = "t2"
	a.mu.Unlock()
	a.add(4)
	jobstest.Advance(t, clock, time.Minute)
	testkit.Eventually(t, 5*time.Second, func() bool { return col.Count() == 4 }, "poll with a new token")
	if n := tokens.Load(); n != 2 {
		t.Errorf("%d token requests, want 2", n)
	}
	if st := lastRun(t, m, "secure"); st.Result != jobs.ResultOK {
		t.Errorf("run %+v", st)
	}
}

// TestSeenSurvivesRestart keeps the seen ids and validators in the bus
// and restarts everything on the same data directory.
func TestSeenSurvivesRestart(t *testing.T) {
	a := newAPI(t, 4)
	dir := t.TempDir()
	clock := jobstest.NewClock(t0)
	col := newBatches()
	cfgJSON := fmt.Sprintf(`{"type":"poll","every":"1m","url":%q,"items":".[]","id":".id","conditional":false}`, a.URL+"/items")
	life := func(want int) {
		clock.Advance(time.Hour)
		b, state := jobstest.OpenStore(t, dir)
		defer b.Close()
		m, stopM := jobstest.StartManager(t, clock, state)
		_, stopS := jobstest.StartSource(t, m, "restart", cfgJSON, col)
		testkit.Eventually(t, 5*time.Second, func() bool {
			st := lastRun(t, m, "restart")
			return st != nil && st.Result == jobs.ResultOK && st.Started.Equal(clock.Now())
		}, "a poll")
		stopS()
		stopM()
		if col.Count() != want {
			t.Fatalf("%d events, want %d: %v", col.Count(), want, ids(col))
		}
	}
	life(4)
	life(4) // nothing new: nothing emitted though every page was fetched
	a.add(5)
	life(5)
	if col.Distinct() != 5 {
		t.Errorf("ids %v", ids(col))
	}
}

func TestLastModified(t *testing.T) {
	lastMod := t0.Add(-time.Hour).Format(http.TimeFormat)
	var since atomic.Value
	since.Store("")
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		since.Store(r.Header.Get("If-Modified-Since"))
		if r.Header.Get("If-Modified-Since") == lastMod {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Last-Modified", lastMod)
		fmt.Fprint(w, `[{"id":1}]`)
	}))
	t.Cleanup(srv.Close)
	clock := jobstest.NewClock(t0)
	m, _ := jobstest.StartManager(t, clock, nil)
	col := newBatches()
	jobstest.StartSource(t, m, "lm", fmt.Sprintf(`{"type":"poll","every":"1m","url":%q,"items":".[]","id":".id"}`, srv.URL), col)
	testkit.Eventually(t, 5*time.Second, func() bool { return col.Count() == 1 }, "first poll")
	jobstest.Advance(t, clock, time.Minute)
	testkit.Eventually(t, 5*time.Second, func() bool { return hits.Load() == 2 }, "second poll")
	if got := since.Load(); got != lastMod {
		t.Errorf("If-Modified-Since %q, want %q", got, lastMod)
	}
	testkit.Eventually(t, 5*time.Second, func() bool {
		st := lastRun(t, m, "lm")
		return st != nil && st.Result == jobs.ResultOK && st.Items == 0 && st.Started.Equal(clock.Now())
	}, "a 304 is a good run with nothing new")
}

func TestValidatorsSurviveRestart(t *testing.T) {
	a := newAPI(t, 3)
	dir := t.TempDir()
	clock := jobstest.NewClock(t0)
	col := newBatches()
	cfgJSON := fmt.Sprintf(`{"type":"poll","every":"1m","url":%q,"items":".[]","id":".id"}`, a.URL+"/items")
	for life := range 2 {
		b, state := jobstest.OpenStore(t, dir)
		m, stopM := jobstest.StartManager(t, clock, state)
		n := len(a.log())
		_, stopS := jobstest.StartSource(t, m, "etag", cfgJSON, col)
		want := 2 // two pages
		if life == 1 {
			want = 1 // one 304
		}
		testkit.Eventually(t, 5*time.Second, func() bool { return len(a.log()) == n+want }, "life %d", life)
		testkit.Eventually(t, 5*time.Second, func() bool {
			st := lastRun(t, m, "etag")
			return st != nil && st.Started.Equal(clock.Now())
		}, "run recorded")
		stopS()
		stopM()
		b.Close()
		clock.Advance(time.Hour)
	}
	log := a.log()
	if r := log[len(log)-1]; r.ifNoneMatch != `"v0"` || r.status != http.StatusNotModified {
		t.Errorf("after a restart: %+v, want a conditional request answered 304", r)
	}
	if col.Count() != 3 {
		t.Errorf("%d events", col.Count())
	}
}

// TestBlockPrivate: with block_private a poll of a loopback API fails
// before any request reaches it, and says why; a redirect from a public
// host would be held to the same check (it is made on the address dialled).
func TestBlockPrivate(t *testing.T) {
	a := newAPI(t, 2)
	clock := jobstest.NewClock(t0)
	m, _ := jobstest.StartManager(t, clock, nil)
	col := newBatches()
	jobstest.StartSource(t, m, "guarded", fmt.Sprintf(`{"type":"poll","every":"1m","url":%q,"items":".[]","id":".id",
		"block_private":true}`, a.URL+"/items"), col)
	testkit.Eventually(t, 5*time.Second, func() bool {
		st := lastRun(t, m, "guarded")
		return st != nil && st.Result == jobs.ResultError
	}, "the guarded poll fails")
	if st := lastRun(t, m, "guarded"); !strings.Contains(st.Error, "loopback") {
		t.Errorf("error %q does not name the forbidden address", st.Error)
	}
	if n := len(a.log()); n != 0 || col.Count() != 0 {
		t.Fatalf("%d requests reached the API and %d events were stored", n, col.Count())
	}

	// The same source without the guard polls it.
	jobstest.StartSource(t, m, "open", fmt.Sprintf(`{"type":"poll","every":"1m","url":%q,"items":".[]","id":".id"}`, a.URL+"/items"), col)
	testkit.Eventually(t, 5*time.Second, func() bool { return col.Count() == 2 }, "the unguarded poll stores 2 items")
}
