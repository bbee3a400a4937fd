package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/eventbridge-dev/eventbridge/internal/cli"
	"github.com/eventbridge-dev/eventbridge/internal/config"
	_ "github.com/eventbridge-dev/eventbridge/internal/connector/all"
	"github.com/eventbridge-dev/eventbridge/internal/server"
	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

// The console in a real browser: Chromium (Debian package chromium),
// driven through the DevTools protocol. One bridge and one browser serve
// every subtest; each subtest has its own tab.

const (
	adminToken  = "console-admin-token-0123456789"
	readerToken = "console-reader-token-0123456789"
)

// screenshotDir, when set, is where the tests save their screenshots
// (docs/console.md shows them: EVENTBRIDGE_CONSOLE_SCREENSHOTS=docs/img/console).
var screenshotDir = os.Getenv("EVENTBRIDGE_CONSOLE_SCREENSHOTS")

type fixture struct {
	bridge  *server.Bridge
	base    string
	sink    *testkit.Sink // target "sink"
	failing *testkit.Sink // target "failing": answers 400 until told otherwise
	browser context.Context
}

func startFixture(t *testing.T) *fixture {
	t.Helper()
	chromium := testkit.NeedTool(t, "chromium", "Debian package chromium")
	f := &fixture{sink: testkit.NewSink(t), failing: testkit.NewSink(t)}
	f.failing.SetStatus(func(int64) int { return http.StatusBadRequest })
	t.Setenv("EB_CONSOLE_ADMIN", adminToken)
	t.Setenv("EB_CONSOLE_READER", readerToken)
	cfg, err := config.Parse([]byte(fmt.Sprintf(`
api:
  allow_private_addresses: true
  tokens:
    admin: {token: "${env:EB_CONSOLE_ADMIN}", scopes: [admin]}
    reader: {token: "${env:EB_CONSOLE_READER}", scopes: [read]}
sources:
  in: {type: http, path: /events}
  nightly: {type: cron, cron: "0 3 * * *", event: {type: com.example.nightly}}
targets:
  sink: {type: http, url: %q}
  failing: {type: http, url: %q}
rules:
  live: {sources: [in], filter: {filters: [{prefix: {type: com.example.live}}]}, targets: [sink]}
  bad: {sources: [in], filter: {filters: [{prefix: {type: com.example.fail}}]}, targets: [failing]}
`, f.sink.URL, f.failing.URL)))
	if err != nil {
		t.Fatalf("config: %s", config.String(err))
	}
	cfg.Bus.DataDir = t.TempDir()
	cfg.API.Listen = "127.0.0.1:0"
	cfg.Lifecycle.Disabled = true
	f.bridge = server.New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := f.bridge.Start(ctx); err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = f.bridge.Stop(ctx)
	})
	f.base = "http://" + f.bridge.Addr()

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.Flag("disable-extensions", true))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancelBrowser(); cancelAlloc() })
	// The first Run starts the browser; it must not have a timeout.
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	f.browser = browser
	return f
}

// apiCall calls the API as the admin.
func (f *fixture) apiCall(t *testing.T, method, path, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, f.base+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+adminToken)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

func (f *fixture) send(t *testing.T, id, typ string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.base+"/events", strings.NewReader(`{"n":1}`))
	req.Header.Set("ce-specversion", "1.0")
	req.Header.Set("ce-id", id)
	req.Header.Set("ce-source", "/console-test")
	req.Header.Set("ce-type", typ)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("send %s: %d", id, resp.StatusCode)
	}
}

// tab is one browser tab, recording what went wrong in it: console
// errors, uncaught exceptions, CSP violations, failed requests.
type tab struct {
	t   *testing.T
	ctx context.Context
	f   *fixture

	mu       sync.Mutex
	problems []string
}

// open opens a tab on the console and signs in with token.
func (f *fixture) open(t *testing.T, token string) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(f.browser)
	t.Cleanup(cancel)
	tb := &tab{t: t, ctx: ctx, f: f}
	if err := chromedp.Listen(ctx, tb.record); err != nil {
		t.Fatalf("listen: %v", err)
	}
	tb.do(chromedp.Navigate(f.base + "/ui/"))
	tb.waitJS(`!!document.querySelector('#token')`, "the sign-in form")
	tb.do(chromedp.SendKeys(chromedp.CSS("#token"), token), chromedp.Click(chromedp.CSS(`form.login button[type=submit]`)))
	tb.waitJS(`document.querySelector('main').dataset.page === 'overview' && document.querySelector('main').dataset.ready === 'true'`, "the overview after signing in")
	// Before signing in, /v1/whoami answered 401: expected.
	tb.mu.Lock()
	var kept []string
	for _, p := range tb.problems {
		if !strings.Contains(p, "401") {
			kept = append(kept, p)
		}
	}
	tb.problems = kept
	tb.mu.Unlock()
	return tb
}

func (tb *tab) record(ev any) {
	var p string
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError {
			var args []string
			for _, a := range ev.Args {
				args = append(args, string(a.Value)+a.Description)
			}
			p = "console.error: " + strings.Join(args, " ")
		}
	case *runtime.EventExceptionThrown:
		p = "exception: " + ev.ExceptionDetails.Text
		if ev.ExceptionDetails.Exception != nil {
			p += " " + ev.ExceptionDetails.Exception.Description
		}
	case *log.EventEntryAdded:
		if ev.Entry.Level == log.EntryLevelError {
			p = "log: " + ev.Entry.Text + " " + ev.Entry.URL
		}
	case *network.EventResponseReceived:
		if ev.Response.Status >= 400 {
			p = fmt.Sprintf("HTTP %d %s", ev.Response.Status, ev.Response.URL)
		}
	case *network.EventLoadingFailed:
		if !ev.Canceled {
			p = "request failed: " + ev.ErrorText + " " + string(ev.BlockedReason)
		}
	}
	if p != "" {
		tb.mu.Lock()
		tb.problems = append(tb.problems, p)
		tb.mu.Unlock()
	}
}

// takeProblems returns and forgets what went wrong so far.
func (tb *tab) takeProblems() []string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	p := tb.problems
	tb.problems = nil
	return p
}

func (tb *tab) do(steps ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		tb.t.Fatalf("browser: %v (problems: %v)", err, tb.takeProblems())
	}
}

func evalJS[T any](tb *tab, js string) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// waitJS waits until the expression is true (30 s: a slow machine).
func (tb *tab) waitJS(js, what string) {
	tb.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(tb.ctx, 10*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("!!("+js+")"))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			tb.t.Fatalf("waiting for %s: %v (problems: %v)", what, err, tb.takeProblems())
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// goTo shows a page (#/hash) and waits until its data is shown.
func (tb *tab) goTo(hash string) {
	tb.t.Helper()
	page := strings.SplitN(strings.TrimPrefix(hash, "#/"), "/", 2)[0]
	tb.do(chromedp.Evaluate[chromedp.Void](fmt.Sprintf("location.hash = %q", hash)))
	tb.waitJS(fmt.Sprintf(`location.hash === %q && document.querySelector('main').dataset.page === %q && document.querySelector('main').dataset.ready === 'true'`, hash, page), "page "+hash)
}

func (tb *tab) screenshot(name string) {
	if screenshotDir == "" {
		return
	}
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
	defer cancel()
	b, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		tb.t.Errorf("screenshot %s: %v", name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(screenshotDir, name+".png"), b, 0o644); err != nil {
		tb.t.Errorf("screenshot: %v", err)
	}
}

func TestConsoleInBrowser(t *testing.T) {
	f := startFixture(t)
	// A dead letter for rule bad, an event for the archive and the
	// catalog, and a rule made through the API (so it can be edited).
	f.send(t, "dead-1", "com.example.fail")
	f.send(t, "seen-1", "com.example.live.seen")
	if code, m := f.apiCall(t, "PUT", "/v1/rules/editme", `{"sources":["in"],"filter":{"sql":"type = 'com.example.old'"},"targets":["sink"]}`); code != 201 {
		t.Fatalf("create rule: %d %v", code, m)
	}
	testkit.Eventually(t, 30*time.Second, func() bool {
		_, m := f.apiCall(t, "GET", "/v1/rules/bad/deadletters", "")
		items, _ := m["items"].([]any)
		return len(items) == 1
	}, "no dead letter for rule bad")

	t.Run("PagesLoadCleanly", func(t *testing.T) {
		tb := f.open(t, adminToken)
		for _, p := range []struct{ hash, name string }{
			{"#/overview", "overview"}, {"#/live", "live"},
			{"#/sources", "sources"}, {"#/sources/in", "source"},
			{"#/targets", "targets"}, {"#/targets/sink", "target"},
			{"#/rules", "rules"}, {"#/rules/live", "rule"}, {"#/rules/editme/edit", "rule-edit"}, {"#/rules/+new", "rule-new"},
			{"#/subscriptions", "subscriptions"}, {"#/subscriptions/+new", "subscription-new"}, {"#/jobs", "jobs"}, {"#/sources/+new/cron", "source-new-cron"},
			{"#/deadletters", "deadletters"}, {"#/deadletters/bad", "deadletters-rule"},
			{"#/archive", "archive"}, {"#/eventtypes", "eventtypes"}, {"#/playground", "playground"},
		} {
			tb.goTo(p.hash)
			if errs := evalJS[[]string](tb, `[...document.querySelectorAll('main .error')].map(e => e.textContent)`); len(errs) > 0 {
				t.Errorf("%s shows errors: %v", p.hash, errs)
			}
			if text := evalJS[string](tb, `document.body.innerText`); strings.Contains(text, "[object ") || strings.Contains(text, "undefined") || strings.Contains(text, "NaN") {
				t.Errorf("%s shows a JavaScript value as text: %q", p.hash, text)
			}
			if h1 := evalJS[string](tb, `document.querySelector('main h1')?.textContent || ''`); h1 == "" {
				t.Errorf("%s has no heading", p.hash)
			}
			// Every control has an accessible name (for screen readers).
			if unnamed := evalJS[[]string](tb, unnamedControls); len(unnamed) > 0 {
				t.Errorf("%s: controls without an accessible name: %v", p.hash, unnamed)
			}
			tb.screenshot(p.name)
			if probs := tb.takeProblems(); len(probs) > 0 {
				t.Errorf("%s: %v", p.hash, probs)
			}
		}
		// The check above finds a control without a name.
		if n := evalJS[[]string](tb, `document.querySelector('main').append(Object.assign(document.createElement('button'), {type: 'button'})), `+unnamedControls); len(n) != 1 {
			t.Errorf("an unnamed button: the check found %v", n)
		}
		// The overview counts what came in.
		tb.goTo("#/overview")
		if in := evalJS[string](tb, `document.querySelector('[data-counter="in"]').textContent`); in == "0" {
			t.Errorf("overview: events in = %s after sending 2", in)
		}
	})

	t.Run("LiveEventAppears", func(t *testing.T) {
		tb := f.open(t, adminToken)
		tb.goTo("#/live")
		tb.waitJS(`document.querySelector('#live-status').dataset.live === 'true'`, "the live stream")
		id := fmt.Sprintf("live-%d", time.Now().UnixNano())
		sent := time.Now()
		f.send(t, id, "com.example.live.order")
		tb.waitJS(fmt.Sprintf(`!!document.querySelector('#live-events tr[data-id=%q]')`, id), "the event in the live view")
		if d := time.Since(sent); d > time.Second {
			t.Logf("the event took %v to appear (the issue asks for 1 s; this machine may be busy)", d)
		}
		tb.do(chromedp.Click(chromedp.CSS(fmt.Sprintf(`#live-events tr[data-id=%q]`, id))))
		tb.waitJS(fmt.Sprintf(`document.querySelector('#live-detail').textContent.includes(%q)`, "com.example.live.order"), "the event's details")
		// Paused: a new event is held, then shown on resume.
		tb.do(chromedp.Click(chromedp.CSS("#live-pause")))
		held := id + "-held"
		f.send(t, held, "com.example.live.order")
		testkit.Eventually(t, 30*time.Second, func() bool {
			_, m := f.apiCall(t, "GET", "/v1/events?type=com.example.live.order", "")
			items, _ := m["items"].([]any)
			return len(items) == 2
		}, "held event not stored")
		tb.do(chromedp.Click(chromedp.CSS("#live-pause")))
		tb.waitJS(fmt.Sprintf(`!!document.querySelector('#live-events tr[data-id=%q]')`, held), "the held event after resuming")
		tb.screenshot("live-detail")

		// Filtered by rule: only what rule "live" matches is shown.
		tb.do(chromedp.SetValue(chromedp.CSS("#live-rule"), "live"), chromedp.Click(chromedp.CSS(`form.filters button[type=submit]`)))
		tb.waitJS(`document.querySelector('#live-status').dataset.live === 'true' && document.querySelectorAll('#live-events tr').length === 0`, "the stream filtered by rule")
		other, mine := id+"-other", id+"-mine"
		f.send(t, other, "com.example.fail.other")
		f.send(t, mine, "com.example.live.mine")
		tb.waitJS(fmt.Sprintf(`!!document.querySelector('#live-events tr[data-id=%q]')`, mine), "the rule's event")
		if n := evalJS[int](tb, fmt.Sprintf(`document.querySelectorAll('#live-events tr[data-id=%q]').length`, other)); n != 0 {
			t.Errorf("an event rule live does not match is shown")
		}
		if probs := tb.takeProblems(); len(probs) > 0 {
			t.Errorf("live: %v", probs)
		}
	})

	t.Run("ReplayFromArchivePage", func(t *testing.T) {
		tb := f.open(t, adminToken)
		tb.goTo("#/archive")
		tb.waitJS(`document.querySelector('#ar-results tbody tr td') && !document.querySelector('#ar-results td.empty')`, "archived events")
		copies := func() int {
			n := 0
			for _, e := range f.sink.Events() {
				if e.ID == "seen-1" {
					n++
				}
			}
			return n
		}
		testkit.Eventually(t, 30*time.Second, func() bool { return copies() == 1 }, "seen-1 not delivered once before the replay")
		tb.do(chromedp.SetValue(chromedp.CSS("#rp-rule"), "live"), chromedp.Click(chromedp.CSS(`#rp-submit`)))
		tb.waitJS(`[...document.querySelectorAll('#replays tbody tr')].some(r => r.textContent.includes('succeeded'))`, "the replay's end")
		testkit.Eventually(t, 30*time.Second, func() bool { return copies() == 2 }, "the replay did not deliver seen-1 again")
		tb.screenshot("archive-replay")
		if probs := tb.takeProblems(); len(probs) > 0 {
			t.Errorf("replay: %v", probs)
		}
	})

	t.Run("ReadOnlyTokenChangesNothing", func(t *testing.T) {
		tb := f.open(t, readerToken)
		mutating := `[...document.querySelectorAll('main button, main a.button, main input[type=checkbox]')]
			.map(e => e.textContent.trim() || e.type)
			.filter(s => /delete|pause|resume|redrive|purge|edit|save|new |start|run now|cancel|checkbox/i.test(s))`
		for _, hash := range []string{"#/rules", "#/rules/live", "#/sources/in", "#/targets/sink", "#/deadletters/bad", "#/jobs", "#/archive", "#/subscriptions"} {
			tb.goTo(hash)
			if found := evalJS[[]string](tb, mutating); len(found) > 0 {
				t.Errorf("%s shows %v to a read-only token", hash, found)
			}
		}
		tb.screenshot("readonly-deadletters")
		// The server refuses anyway.
		status := evalJS[int](tb, `fetch('/v1/rules/live:pause', {method: 'POST', headers: {Authorization: 'Bearer ' + sessionStorage.getItem('eventbridge.token')}}).then(r => r.status)`)
		if status != http.StatusForbidden {
			t.Errorf("pause with a read token: %d", status)
		}
		tb.takeProblems() // the 403 above
	})

	t.Run("EditRuleShowsErrorAtItsLine", func(t *testing.T) {
		tb := f.open(t, adminToken)
		tb.goTo("#/rules/editme/edit")
		bad := "sources: [in]\nfilter:\n  sql: \"type = 'com.example.new'\"\ntargets:\n  - nosuch\n"
		tb.do(chromedp.SetValue(chromedp.CSS("#res-yaml"), bad), chromedp.Click(chromedp.CSS(`form.editor button[type=submit]`)))
		tb.waitJS(`!!document.querySelector('.gutter .err')`, "an error line")
		if lines := evalJS[[]string](tb, `[...document.querySelectorAll('.gutter .err')].map(e => e.dataset.line)`); len(lines) != 1 || lines[0] != "5" {
			t.Errorf("error lines %v, want [5]", lines)
		}
		if msg := evalJS[string](tb, `document.querySelector('#res-errors').textContent`); !strings.Contains(msg, "line 5") || !strings.Contains(msg, "nosuch") {
			t.Errorf("error text %q", msg)
		}
		tb.screenshot("rule-edit-error")
		tb.takeProblems() // the 400 is the point
		good := strings.Replace(bad, "nosuch", "sink", 1)
		tb.do(chromedp.SetValue(chromedp.CSS("#res-yaml"), good), chromedp.Click(chromedp.CSS(`form.editor button[type=submit]`)))
		tb.waitJS(`location.hash === '#/rules/editme' && document.querySelector('main').dataset.ready === 'true'`, "the rule's page after saving")
		if probs := tb.takeProblems(); len(probs) > 0 {
			t.Errorf("save: %v", probs)
		}
		// The fixed rule takes effect.
		f.send(t, "edited-1", "com.example.new")
		testkit.Eventually(t, 30*time.Second, func() bool { return f.sink.Has("/console-test", "edited-1") }, "the edited rule did not deliver")
	})

	t.Run("RedriveDeadLetter", func(t *testing.T) {
		tb := f.open(t, adminToken)
		f.failing.SetStatus(nil) // the target is fixed
		tb.goTo("#/deadletters/bad")
		tb.do(chromedp.Click(chromedp.CSS(`button.redrive-one`)))
		testkit.Eventually(t, 30*time.Second, func() bool { return f.failing.Has("/console-test", "dead-1") }, "the redriven letter did not reach the sink")
		tb.waitJS(`document.querySelector('#toast').textContent.includes('done')`, "the redrive's end")
		if probs := tb.takeProblems(); len(probs) > 0 {
			t.Errorf("redrive: %v", probs)
		}
	})

	t.Run("JobRunNow", func(t *testing.T) {
		tb := f.open(t, adminToken)
		tb.goTo("#/jobs")
		tb.do(chromedp.Click(chromedp.CSS(`button.job-run`)))
		testkit.Eventually(t, 30*time.Second, func() bool {
			_, m := f.apiCall(t, "GET", "/v1/events?type=com.example.nightly", "")
			items, _ := m["items"].([]any)
			return len(items) == 1
		}, "run now emitted no event")
		tb.waitJS(`document.querySelector('#main').textContent.includes('ok, 1 events')`, "the job's last run")
		tb.screenshot("jobs")
		if probs := tb.takeProblems(); len(probs) > 0 {
			t.Errorf("jobs: %v", probs)
		}
	})

	t.Run("DeleteAsksFirst", func(t *testing.T) {
		if code, m := f.apiCall(t, "PUT", "/v1/targets/temp", `{"type":"log"}`); code != 201 {
			t.Fatalf("create target: %d %v", code, m)
		}
		tb := f.open(t, adminToken)
		tb.goTo("#/targets/temp")
		tb.do(chromedp.Click(chromedp.CSS(`main button.danger`)))
		tb.waitJS(`document.querySelector('dialog.confirm[open]')`, "the confirmation")
		tb.do(chromedp.Click(chromedp.CSS(`dialog.confirm button:not(.danger)`)))
		tb.waitJS(`!document.querySelector('dialog.confirm')`, "the dialog to close")
		if code, _ := f.apiCall(t, "GET", "/v1/targets/temp", ""); code != 200 {
			t.Fatalf("cancelled, yet the target is gone: %d", code)
		}
		tb.do(chromedp.Click(chromedp.CSS(`main button.danger`)))
		tb.waitJS(`document.querySelector('dialog.confirm[open]')`, "the confirmation")
		tb.do(chromedp.Click(chromedp.CSS(`dialog.confirm button.danger`)))
		tb.waitJS(`location.hash === '#/targets' && document.querySelector('main').dataset.ready === 'true'`, "the targets after deleting")
		if code, _ := f.apiCall(t, "GET", "/v1/targets/temp", ""); code != 404 {
			t.Errorf("deleted target: %d", code)
		}
		if probs := tb.takeProblems(); len(probs) > 0 {
			t.Errorf("delete: %v", probs)
		}
	})

	t.Run("EditRoundTrip", func(t *testing.T) {
		// The editor's YAML, saved unchanged, is the same spec: strings
		// YAML would read as something else stay strings, secrets stay.
		spec := fmt.Sprintf(`{"type":"http","url":%q,"method":"PUT","timeout":"5s","max_conns":3,"headers":{"X-Yes":"yes","X-Num":"123","X-Star":"*","X-Colon":"a: b","X-Hash":"#x","X-Empty":"","X-Secret":"s3cret"},"labels":{"team":"on"}}`, f.sink.URL)
		if code, m := f.apiCall(t, "PUT", "/v1/targets/roundtrip", spec); code != 201 {
			t.Fatalf("create target: %d %v", code, m)
		}
		_, before := f.apiCall(t, "GET", "/v1/targets/roundtrip", "")
		tb := f.open(t, adminToken)
		tb.goTo("#/targets/roundtrip/edit")
		tb.do(chromedp.Click(chromedp.CSS(`form.editor button[type=submit]`)))
		tb.waitJS(`location.hash === '#/targets/roundtrip' && document.querySelector('main').dataset.ready === 'true'`, "the target after saving")
		_, after := f.apiCall(t, "GET", "/v1/targets/roundtrip", "")
		b1, _ := json.Marshal(before["spec"])
		b2, _ := json.Marshal(after["spec"])
		if string(b1) != string(b2) {
			t.Errorf("spec changed by an unchanged save:\n%s\n%s", b1, b2)
		}
		if probs := tb.takeProblems(); len(probs) > 0 {
			t.Errorf("round trip: %v", probs)
		}
	})

	t.Run("Keyboard", func(t *testing.T) {
		tb := f.open(t, adminToken)
		tb.goTo("#/live")
		// Freshly loaded, the first Tab reaches the skip link, which moves
		// to the content.
		tb.do(chromedp.Reload())
		tb.waitJS(`document.querySelector('main').dataset.page === 'live' && document.querySelector('main').dataset.ready === 'true' && document.querySelector('#live-status').dataset.live === 'true'`, "the live page after reloading")
		tb.do(chromedp.KeyEvent("\t"))
		if id := evalJS[string](tb, `document.activeElement.id`); id != "skip" {
			t.Errorf("the first Tab reaches %q, not the skip link", id)
		}
		tb.do(chromedp.KeyEvent("\r"))
		if id := evalJS[string](tb, `document.activeElement.id`); id != "main" {
			t.Errorf("the skip link moved focus to %q", id)
		}
		// An event row opens with Enter.
		f.send(t, "kb-1", "com.example.live.kb")
		tb.waitJS(`!!document.querySelector('#live-events tr[data-id="kb-1"]')`, "the event")
		tb.do(chromedp.Evaluate[chromedp.Void](`document.querySelector('#live-events tr[data-id="kb-1"]').focus()`), chromedp.KeyEvent("\r"))
		tb.waitJS(`document.querySelector('#live-detail').textContent.includes('com.example.live.kb')`, "the details opened with Enter")
		if probs := tb.takeProblems(); len(probs) > 0 {
			t.Errorf("keyboard: %v", probs)
		}
	})

	t.Run("WrongTokenAsksAgain", func(t *testing.T) {
		ctx, cancel := chromedp.NewContext(f.browser)
		defer cancel()
		tb := &tab{t: t, ctx: ctx, f: f}
		if err := chromedp.Do(ctx); err != nil { // opens the tab (no timeout: it would close it)
			t.Fatal(err)
		}
		tb.do(chromedp.Navigate(f.base + "/ui/#/rules"))
		tb.waitJS(`!!document.querySelector('#token')`, "the sign-in form")
		tb.do(chromedp.SendKeys(chromedp.CSS("#token"), "not-a-token"), chromedp.Click(chromedp.CSS(`form.login button[type=submit]`)))
		tb.waitJS(`document.querySelector('form.login .error') && document.querySelector('form.login .error').textContent.includes('refused')`, "the refusal")
		if n := evalJS[int](tb, `document.querySelectorAll('main table').length`); n != 0 {
			t.Errorf("a wrong token sees %d tables", n)
		}
	})

	t.Run("PlaygroundAgreesWithPatternTest", func(t *testing.T) {
		tb := f.open(t, adminToken)
		tb.goTo("#/playground")
		event := `{"specversion":"1.0","id":"p1","source":"/shop","type":"com.example.order.created","datacontenttype":"application/json","data":{"total":42,"items":["a","b"]}}`
		for _, pattern := range []string{
			`{"type":["com.example.order.created"]}`,
			`{"type":["com.example.order.deleted"]}`,
			`{"source":[{"prefix":"/sh"}]}`,
			`{"data":{"total":[{"numeric":[">",100]}]}}`,
			`{"data":{"total":[{"numeric":[">",10,"<=",42]}]}}`,
			`{"data":{"items":["b"]}}`,
			`{"subject":[{"exists":false}]}`,
			`{"type":[{"anything-but":"com.example.order.created"}]}`,
		} {
			rule := `{"filter":{"pattern":` + pattern + `}}`
			tb.do(chromedp.SetValue(chromedp.CSS("#pg-rule"), rule), chromedp.SetValue(chromedp.CSS("#pg-event"), event),
				chromedp.Evaluate[chromedp.Void](`document.querySelector('#pg-result').replaceChildren()`),
				chromedp.Click(chromedp.CSS("#pg-run")))
			tb.waitJS(`!!document.querySelector('#pg-result .verdict')`, "the playground's answer")
			got := evalJS[string](tb, `document.querySelector('#pg-result .verdict').dataset.matched`)
			if want := patternTest(t, pattern, event); got != want {
				t.Errorf("pattern %s: the playground says %s, eventbridge pattern test %s", pattern, got, want)
			}
		}
		// A transform's output is shown.
		tb.do(chromedp.SetValue(chromedp.CSS("#pg-rule"), `{"filter":{"sql":"source = '/shop'"},"transform":{"jq":"{total: .data.total}"}}`),
			chromedp.Evaluate[chromedp.Void](`document.querySelector('#pg-result').replaceChildren()`),
			chromedp.Click(chromedp.CSS("#pg-run")))
		tb.waitJS(`document.querySelector('#pg-result').textContent.includes('"total": 42')`, "the transform's output")
		tb.screenshot("playground")
		if probs := tb.takeProblems(); len(probs) > 0 {
			t.Errorf("playground: %v", probs)
		}
	})

	t.Run("NarrowScreen", func(t *testing.T) {
		// From the narrowest to the widest screen the issue names: no page
		// scrolls sideways (wide tables scroll inside their box).
		tb := f.open(t, adminToken)
		for _, width := range []int64{390, 1920} {
			tb.do(chromedp.EmulateViewport(width, 900))
			for _, hash := range allPages {
				tb.goTo(hash)
				if w := evalJS[int64](tb, `document.documentElement.scrollWidth`); w > width+2 {
					t.Errorf("%s is %d px wide on a %d px screen", hash, w, width)
				}
			}
			if width == 390 {
				tb.goTo("#/overview")
				tb.screenshot("overview-390px")
			}
		}
	})
}

// allPages is a page of each kind.
var allPages = []string{
	"#/overview", "#/live", "#/sources", "#/sources/in", "#/sources/+new/poll",
	"#/targets", "#/targets/sink", "#/rules", "#/rules/live", "#/rules/editme/edit", "#/rules/+new",
	"#/subscriptions", "#/subscriptions/+new", "#/jobs", "#/deadletters", "#/deadletters/bad",
	"#/archive", "#/eventtypes", "#/playground",
}

// unnamedControls lists the visible buttons, inputs, selects and
// textareas of the page with no accessible name: none of aria-label,
// aria-labelledby naming text, a label with text, a button's text, a
// title, an input button's value.
const unnamedControls = `[...document.querySelectorAll('button, input:not([type=hidden]), select, textarea')]
	.filter(e => e.getClientRects().length > 0 || e.closest('dialog, nav'))
	.filter(e => {
		const text = (s) => (s || '').trim() !== '';
		if (text(e.getAttribute('aria-label')) || text(e.title)) return false;
		const by = e.getAttribute('aria-labelledby');
		if (by && by.split(/\s+/).some(id => text(document.getElementById(id)?.textContent))) return false;
		if (e.labels && [...e.labels].some(l => text(l.textContent))) return false;
		if (e.tagName === 'BUTTON' && text(e.textContent)) return false;
		if (e.tagName === 'INPUT' && ['submit', 'button', 'reset'].includes(e.type) && text(e.value)) return false;
		return true;
	})
	.map(e => e.outerHTML.slice(0, 100))`

// patternTest runs `eventbridge pattern test` (in this process) and returns
// what it prints: true or false.
func patternTest(t *testing.T, pattern, event string) string {
	t.Helper()
	var out, errb strings.Builder
	root := cli.NewRoot(&out, &errb)
	root.SetArgs([]string{"pattern", "test", "--pattern", pattern, "--event", event})
	if err := root.Execute(); err != nil {
		t.Fatalf("pattern test %s: %v %s", pattern, err, errb.String())
	}
	return strings.TrimSpace(out.String())
}
