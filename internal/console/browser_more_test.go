package console_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/eventbridge-dev/eventbridge/internal/cli"
	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

// More of the console in the browser, on the fixture of
// TestConsoleInBrowser: pause and resume of sources and targets, a
// subscription edited as YAML, dead letters redriven as a selection and
// as "all", purge, and the live view's latency.
func TestConsoleInBrowserMore(t *testing.T) {
	f := startFixture(t)

	t.Run("PauseResumeTargetAndSource", func(t *testing.T) {
		held := testkit.NewSink(t)
		for _, c := range []struct{ path, body string }{
			{"/v1/targets/holdme", fmt.Sprintf(`{"type":"http","url":%q}`, held.URL)},
			{"/v1/rules/holdme", `{"sources":["in"],"filter":{"filters":[{"prefix":{"type":"com.example.hold"}}]},"targets":["holdme"]}`},
			{"/v1/sources/pausable", `{"type":"http","path":"/pausable"}`},
		} {
			if code, m := f.apiCall(t, "PUT", c.path, c.body); code != 201 {
				t.Fatalf("PUT %s: %d %v", c.path, code, m)
			}
		}
		tb := f.open(t, adminToken)
		tb.goTo("#/targets/holdme")
		tb.do(chromedp.Click(chromedp.CSS(`button.pause-toggle`)))
		tb.waitJS(`document.querySelector('main').dataset.ready === 'true' && document.querySelector('button.pause-toggle').textContent === 'Resume'`, "the paused target's page")
		if _, m := f.apiCall(t, "GET", "/v1/targets/holdme", ""); m["paused"] != true {
			t.Fatalf("the target is not paused: %v", m)
		}
		tb.screenshot("target-paused")
		f.send(t, "held-1", "com.example.hold")
		testkit.Eventually(t, 30*time.Second, func() bool {
			_, m := f.apiCall(t, "GET", "/v1/rules/holdme", "")
			st, _ := m["status"].(map[string]any)
			c, _ := st["counters"].(map[string]any)
			v, _ := c["matched"].(float64)
			return v == 1
		}, "the held event was not matched")
		testkit.Never(t, 300*time.Millisecond, func() bool { return held.Count() > 0 }, "a paused target received an event")
		tb.do(chromedp.Click(chromedp.CSS(`button.pause-toggle`)))
		tb.waitJS(`document.querySelector('main').dataset.ready === 'true' && document.querySelector('button.pause-toggle').textContent === 'Pause'`, "the resumed target's page")
		testkit.Eventually(t, 30*time.Second, func() bool { return held.Has("/console-test", "held-1") }, "the resumed target did not get the held event")

		post := func() int {
			req, _ := http.NewRequest(http.MethodPost, f.base+"/pausable", strings.NewReader(`{}`))
			req.Header.Set("ce-specversion", "1.0")
			req.Header.Set("ce-id", fmt.Sprint(time.Now().UnixNano()))
			req.Header.Set("ce-source", "/console-test")
			req.Header.Set("ce-type", "com.example.pausable")
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		tb.goTo("#/sources/pausable")
		tb.do(chromedp.Click(chromedp.CSS(`button.pause-toggle`)))
		tb.waitJS(`document.querySelector('main').dataset.ready === 'true' && document.querySelector('button.pause-toggle').textContent === 'Resume'`, "the paused source's page")
		if code := post(); code != http.StatusServiceUnavailable {
			t.Errorf("a paused source answered %d, want 503", code)
		}
		tb.screenshot("source-paused")
		tb.do(chromedp.Click(chromedp.CSS(`button.pause-toggle`)))
		tb.waitJS(`document.querySelector('main').dataset.ready === 'true' && document.querySelector('button.pause-toggle').textContent === 'Pause'`, "the resumed source's page")
		if code := post(); code != http.StatusAccepted {
			t.Errorf("a resumed source answered %d, want 202", code)
		}
		if probs := tb.takeProblems(); len(probs) > 0 {
			t.Errorf("pause: %v", probs)
		}
		// A read-only token sees no Pause button here.
		rd := f.open(t, readerToken)
		for _, hash := range []string{"#/sources/pausable", "#/targets/holdme"} {
			rd.goTo(hash)
			if n := evalJS[int](rd, `document.querySelectorAll('button.pause-toggle').length`); n != 0 {
				t.Errorf("%s shows Pause to a read-only token", hash)
			}
		}
	})

	t.Run("EditSubscriptionAsYAML", func(t *testing.T) {
		code, m := f.apiCall(t, "POST", "/v1/subscriptions", fmt.Sprintf(`{"protocol":"HTTP","sink":%q,"types":["com.example.sub.old"]}`, f.sink.URL))
		id, _ := m["id"].(string)
		if code != 201 || id == "" {
			t.Fatalf("create subscription: %d %v", code, m)
		}
		tb := f.open(t, adminToken)
		tb.goTo("#/subscriptions/" + id)
		tb.do(chromedp.Click(chromedp.CSS(`main a.button[href$="/edit"]`)))
		tb.waitJS(`document.querySelector('main').dataset.ready === 'true' && !!document.querySelector('#res-yaml')`, "the subscription's editor")
		if y := evalJS[string](tb, `document.querySelector('#res-yaml').value`); !strings.Contains(y, "com.example.sub.old") {
			t.Errorf("the editor shows %q", y)
		}
		bad := "protocol: HTTP\ntypes:\n  - com.example.sub.new\nsink: not a url\n"
		tb.do(chromedp.SetValue(chromedp.CSS("#res-yaml"), bad), chromedp.Click(chromedp.CSS(`form.editor button[type=submit]`)))
		tb.waitJS(`!!document.querySelector('.gutter .err')`, "an error line")
		if lines := evalJS[[]string](tb, `[...document.querySelectorAll('.gutter .err')].map(e => e.dataset.line)`); len(lines) != 1 || lines[0] != "4" {
			t.Errorf("error lines %v, want [4]", lines)
		}
		tb.screenshot("subscription-edit-error")
		tb.takeProblems() // the 400 is the point
		good := strings.Replace(bad, "not a url", f.sink.URL, 1)
		tb.do(chromedp.SetValue(chromedp.CSS("#res-yaml"), good), chromedp.Click(chromedp.CSS(`form.editor button[type=submit]`)))
		tb.waitJS(fmt.Sprintf(`location.hash === %q && document.querySelector('main').dataset.ready === 'true'`, "#/subscriptions/"+id), "the subscription's page after saving")
		if probs := tb.takeProblems(); len(probs) > 0 {
			t.Errorf("save: %v", probs)
		}
		// The edited subscription takes effect.
		f.send(t, "sub-new-1", "com.example.sub.new")
		testkit.Eventually(t, 30*time.Second, func() bool { return f.sink.Has("/console-test", "sub-new-1") }, "the edited subscription did not deliver")
	})

	t.Run("CreateSubscriptionAsYAML", func(t *testing.T) {
		tb := f.open(t, adminToken)
		tb.goTo("#/subscriptions")
		tb.do(chromedp.Click(chromedp.CSS(`main a.button[href="#/subscriptions/+new"]`)))
		tb.waitJS(`document.querySelector('main').dataset.ready === 'true' && !!document.querySelector('#res-yaml')`, "the new subscription's editor")
		if n := evalJS[int](tb, `document.querySelectorAll('#res-name').length`); n != 0 {
			t.Errorf("a new subscription asks for a name; the bridge gives its id")
		}
		bad := "protocol: HTTP\nsink: not a url\ntypes:\n  - com.example.sub.created\n"
		tb.do(chromedp.SetValue(chromedp.CSS("#res-yaml"), bad), chromedp.Click(chromedp.CSS(`form.editor button[type=submit]`)))
		tb.waitJS(`!!document.querySelector('.gutter .err')`, "an error line")
		if lines := evalJS[[]string](tb, `[...document.querySelectorAll('.gutter .err')].map(e => e.dataset.line)`); len(lines) != 1 || lines[0] != "2" {
			t.Errorf("error lines %v, want [2] (errors: %s)", lines, evalJS[string](tb, `document.querySelector('#res-errors').textContent`))
		}
		if len(f.subsWithType(t, "com.example.sub.created")) != 0 {
			t.Fatalf("the wrong subscription was created")
		}
		tb.screenshot("subscription-new-error")
		tb.takeProblems() // the 400 is the point
		good := "protocol: HTTP\nsink: " + f.sink.URL + "\ntypes:\n  - com.example.sub.created\n"
		tb.do(chromedp.SetValue(chromedp.CSS("#res-yaml"), good))
		tb.screenshot("subscription-new")
		tb.do(chromedp.Click(chromedp.CSS(`form.editor button[type=submit]`)))
		tb.waitJS(`/^#\/subscriptions\/[^/+]+$/.test(location.hash) && document.querySelector('main').dataset.ready === 'true'`, "the new subscription's page")
		id := strings.TrimPrefix(evalJS[string](tb, `location.hash`), "#/subscriptions/")
		if ids := f.subsWithType(t, "com.example.sub.created"); len(ids) != 1 || ids[0] != id {
			t.Fatalf("subscriptions of the type: %v, the page shows %s", ids, id)
		}
		if probs := tb.takeProblems(); len(probs) > 0 {
			t.Errorf("create: %v", probs)
		}
		f.send(t, "sub-created-1", "com.example.sub.created")
		testkit.Eventually(t, 30*time.Second, func() bool { return f.sink.Has("/console-test", "sub-created-1") }, "the new subscription did not deliver")
		// A read-only token sees no New subscription.
		rd := f.open(t, readerToken)
		rd.goTo("#/subscriptions")
		if n := evalJS[int](rd, `document.querySelectorAll('main a[href="#/subscriptions/+new"]').length`); n != 0 {
			t.Errorf("a read-only token sees New subscription")
		}
	})

	t.Run("NewJobFromJobsPage", func(t *testing.T) {
		tb := f.open(t, adminToken)
		tb.goTo("#/jobs")
		tb.do(chromedp.Click(chromedp.CSS(`main a.button[href="#/sources/+new/cron"]`)))
		tb.waitJS(`document.querySelector('main').dataset.ready === 'true' && document.querySelector('#res-yaml')?.value.includes('type: cron')`, "the cron source's editor")
		tb.do(chromedp.SetValue(chromedp.CSS("#res-name"), "hourly"), chromedp.Click(chromedp.CSS(`form.editor button[type=submit]`)))
		tb.waitJS(`location.hash === '#/sources/hourly' && document.querySelector('main').dataset.ready === 'true'`, "the new source's page")
		tb.goTo("#/jobs")
		tb.waitJS(`[...document.querySelectorAll('#jobs td a')].some(a => a.textContent === 'hourly')`, "the new job in the list")
		if probs := tb.takeProblems(); len(probs) > 0 {
			t.Errorf("new job: %v", probs)
		}
		rd := f.open(t, readerToken)
		rd.goTo("#/jobs")
		if n := evalJS[int](rd, `document.querySelectorAll('main a[href^="#/sources/+new"]').length`); n != 0 {
			t.Errorf("a read-only token sees New poll/cron source")
		}
	})

	t.Run("FiltersSearchAndArchivedEventInPlayground", func(t *testing.T) {
		tb := f.open(t, adminToken)
		// The live view filtered by type and source: only what matches both.
		tb.goTo("#/live")
		tb.do(chromedp.SetValue(chromedp.CSS("#live-type"), "com.example.filter.yes"), chromedp.SetValue(chromedp.CSS("#live-source"), "/console-test"),
			chromedp.Click(chromedp.CSS(`form.filters button[type=submit]`)))
		tb.waitJS(`document.querySelector('#live-status').dataset.live === 'true' && document.querySelectorAll('#live-events tr').length === 0`, "the stream filtered by type and source")
		f.send(t, "filter-no", "com.example.filter.no")
		f.send(t, "filter-yes", "com.example.filter.yes")
		tb.waitJS(`!!document.querySelector('#live-events tr[data-id="filter-yes"]')`, "the matching event")
		if n := evalJS[int](tb, `document.querySelectorAll('#live-events tr[data-id="filter-no"]').length`); n != 0 {
			t.Errorf("the live view shows an event of another type")
		}
		// The archive searched by type.
		tb.goTo("#/archive")
		tb.do(chromedp.SetValue(chromedp.CSS("#ar-type"), "com.example.filter.no"), chromedp.Click(chromedp.CSS(`form.filters button[type=submit]`)))
		tb.waitJS(`(ids => ids.length === 1 && ids[0] === 'filter-no')([...document.querySelectorAll('#ar-results tbody tr')].map(r => r.lastElementChild.textContent))`, "the archive's answer for the type")
		// The playground tests the newest archived event.
		f.send(t, "pg-newest", "com.example.filter.newest")
		testkit.Eventually(t, 30*time.Second, func() bool {
			_, m := f.apiCall(t, "GET", "/v1/events?type=com.example.filter.newest", "")
			items, _ := m["items"].([]any)
			return len(items) == 1
		}, "the newest event is not archived")
		tb.goTo("#/playground")
		tb.do(chromedp.Click(chromedp.CSS("#pg-pick")))
		tb.waitJS(`document.querySelector('#pg-event').value.includes('pg-newest')`, "the archived event in the playground")
		tb.do(chromedp.SetValue(chromedp.CSS("#pg-rule"), `{"filter":{"pattern":{"type":["com.example.filter.newest"]}}}`), chromedp.Click(chromedp.CSS("#pg-run")))
		tb.waitJS(`document.querySelector('#pg-result .verdict')?.dataset.matched === 'true'`, "a match on the archived event")
		if probs := tb.takeProblems(); len(probs) > 0 {
			t.Errorf("filters: %v", probs)
		}
	})

	t.Run("RedriveSelectionAllAndPurge", func(t *testing.T) {
		broken := testkit.NewSink(t)
		broken.SetStatus(func(int64) int { return http.StatusBadRequest })
		for _, c := range []struct{ path, body string }{
			{"/v1/targets/broken", fmt.Sprintf(`{"type":"http","url":%q}`, broken.URL)},
			{"/v1/rules/broken", `{"sources":["in"],"filter":{"filters":[{"prefix":{"type":"com.example.broken"}}]},"targets":["broken"]}`},
		} {
			if code, m := f.apiCall(t, "PUT", c.path, c.body); code != 201 {
				t.Fatalf("PUT %s: %d %v", c.path, code, m)
			}
		}
		letters := func() []any {
			_, m := f.apiCall(t, "GET", "/v1/rules/broken/deadletters", "")
			items, _ := m["items"].([]any)
			return items
		}
		const n = 5
		for i := range n {
			f.send(t, fmt.Sprintf("broken-%d", i), "com.example.broken")
		}
		testkit.Eventually(t, 30*time.Second, func() bool { return len(letters()) == n }, "no %d dead letters", n)
		broken.SetStatus(nil) // the target is fixed

		tb := f.open(t, adminToken)
		tb.goTo("#/deadletters/broken")
		// A selection: the first two letters.
		picked := evalJS[[]string](tb, `[...document.querySelectorAll('main input[type=checkbox]')].slice(0, 2).map(c => { c.click(); return c.getAttribute('aria-label').replace('Select dead letter ', ''); })`)
		want := map[string]bool{}
		for _, l := range letters() {
			m := l.(map[string]any)
			for _, p := range picked {
				if fmt.Sprint(m["id"]) == p {
					want[m["event"].(map[string]any)["id"].(string)] = true
				}
			}
		}
		if len(want) != 2 {
			t.Fatalf("picked %v, found the events of %v", picked, want)
		}
		tb.do(chromedp.Click(chromedp.CSS(`#dlq-redrive-selected`)))
		tb.waitJS(`(p => p && p.max === 2 && p.value === 2)(document.querySelector('#dlq-status progress'))`, "the selection's progress bar at its end")
		testkit.Eventually(t, 30*time.Second, func() bool { return broken.Distinct() == 2 }, "the selection did not reach the sink")
		for id := range want {
			if !broken.Has("/console-test", id) {
				t.Errorf("the sink did not get %s, which was selected", id)
			}
		}
		tb.waitJS(`document.querySelectorAll('main input[type=checkbox]').length === 3`, "three letters left")
		// All the others.
		tb.do(chromedp.Click(chromedp.CSS(`#dlq-redrive-all`)))
		tb.waitJS(`(p => p && p.max === 3 && p.value === 3)(document.querySelector('#dlq-status progress'))`, "the progress bar of 'all' at its end")
		testkit.Eventually(t, 30*time.Second, func() bool { return broken.Distinct() == n }, "redrive all: the sink has %d of %d", broken.Distinct(), n)
		tb.waitJS(`!!document.querySelector('main td.empty')`, "no letters left")
		tb.screenshot("deadletters-redrive-all")

		// Purge (admin): new letters, then none.
		broken.SetStatus(func(int64) int { return http.StatusBadRequest })
		f.send(t, "broken-p1", "com.example.broken")
		f.send(t, "broken-p2", "com.example.broken")
		testkit.Eventually(t, 30*time.Second, func() bool { return len(letters()) == 2 }, "no letters to purge")
		tb.do(chromedp.Evaluate[chromedp.Void](`window.dispatchEvent(new Event('eb-rerender'))`)) // the same page again
		tb.waitJS(`document.querySelectorAll('main input[type=checkbox]').length === 2`, "the letters to purge")
		tb.do(chromedp.Click(chromedp.CSS(`#dlq-purge`)))
		tb.waitJS(`document.querySelector('dialog.confirm[open]')`, "the confirmation")
		tb.do(chromedp.Click(chromedp.CSS(`dialog.confirm button.danger`)))
		tb.waitJS(`!!document.querySelector('main td.empty') && document.querySelector('#toast').textContent.includes('Purged 2')`, "the emptied list")
		if l := letters(); len(l) != 0 {
			t.Errorf("%d letters after purge", len(l))
		}
		tb.screenshot("deadletters-purged")
		if probs := tb.takeProblems(); len(probs) > 0 {
			t.Errorf("dead letters: %v", probs)
		}
	})

	t.Run("SentEventInLiveViewWithinASecond", func(t *testing.T) {
		tb := f.open(t, adminToken)
		tb.goTo("#/live")
		tb.waitJS(`document.querySelector('#live-status').dataset.live === 'true'`, "the live stream")
		// The page notes when each row appears (wall clock, ms), so the
		// time is measured, not polled.
		tb.do(chromedp.Evaluate[chromedp.Void](`window.ebSeen = {};
			new MutationObserver(() => { for (const r of document.querySelectorAll('#live-events tr[data-id]')) window.ebSeen[r.dataset.id] ??= Date.now(); })
				.observe(document.querySelector('#live-events'), {childList: true, subtree: true});`))
		id := fmt.Sprintf("latency-%d", time.Now().UnixNano())
		var out, errb strings.Builder
		root := cli.NewRoot(&out, &errb)
		root.SetArgs([]string{"send", "--server", f.base, "--type", "com.example.live.latency", "--source", "/console-test", "--id", id, "--data", `{"n":1}`})
		sent := time.Now()
		if err := root.Execute(); err != nil {
			t.Fatalf("eventbridge send: %v %s", err, errb.String())
		}
		tb.waitJS(fmt.Sprintf(`!!window.ebSeen[%q]`, id), "the sent event in the live view")
		shown := time.UnixMilli(int64(evalJS[float64](tb, fmt.Sprintf(`window.ebSeen[%q]`, id))))
		_, m := f.apiCall(t, "GET", "/v1/events?type=com.example.live.latency", "")
		items, _ := m["items"].([]any)
		if len(items) != 1 {
			t.Fatalf("archived: %v", m)
		}
		stored, err := time.Parse(time.RFC3339Nano, items[0].(map[string]any)["stored"].(string))
		if err != nil {
			t.Fatal(err)
		}
		fromSend, fromStore := shown.Sub(sent), shown.Sub(stored)
		t.Logf("send → row %v, stored → row %v (send → stored %v)", fromSend, fromStore, stored.Sub(sent))
		// The bound is from eventbridge send to the row. When the bridge
		// itself took more than half of it to store the event (a busy
		// machine: the race detector, other builds), the second is counted
		// from the moment it was stored instead; that part is always
		// bounded (docs/console.md).
		if fromStore > time.Second {
			t.Errorf("the event appeared %v after it was stored, more than 1 s", fromStore)
		}
		if fromSend > time.Second {
			if stored.Sub(sent) <= 500*time.Millisecond {
				t.Errorf("the event appeared %v after eventbridge send, more than 1 s", fromSend)
			} else {
				t.Logf("a busy machine: storing took %v; the bound holds from the moment it was stored", stored.Sub(sent))
			}
		}
		if probs := tb.takeProblems(); len(probs) > 0 {
			t.Errorf("live: %v", probs)
		}
	})
}

// subsWithType returns the ids of the subscriptions that name the type.
func (f *fixture) subsWithType(t *testing.T, typ string) []string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, f.base+"/v1/subscriptions", nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var subs []struct {
		ID    string   `json:"id"`
		Types []string `json:"types"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&subs); err != nil {
		t.Fatalf("GET /v1/subscriptions: %d %v", resp.StatusCode, err)
	}
	var ids []string
	for _, s := range subs {
		if slices.Contains(s.Types, typ) {
			ids = append(ids, s.ID)
		}
	}
	return ids
}
