package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
	"github.com/eventbridge-dev/eventbridge/internal/config"
	"github.com/eventbridge-dev/eventbridge/internal/jobs"
	"github.com/eventbridge-dev/eventbridge/internal/server"
	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

// issuesAPI is a two-page API of items, with a Link to the second page.
type issuesAPI struct {
	*httptest.Server
	hits atomic.Int32
	mu   sync.Mutex
	ids  []int
}

func newIssuesAPI(t *testing.T, ids ...int) *issuesAPI {
	a := &issuesAPI{ids: ids}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.hits.Add(1)
		a.mu.Lock()
		defer a.mu.Unlock()
		half := (len(a.ids) + 1) / 2
		page := a.ids[:half]
		if r.URL.Query().Get("page") == "2" {
			page = a.ids[half:]
		} else {
			w.Header().Set("Link", fmt.Sprintf(`<%s/issues?page=2>; rel="next"`, a.URL))
		}
		var items []map[string]any
		for _, id := range page {
			items = append(items, map[string]any{"id": id, "title": fmt.Sprint("issue ", id)})
		}
		_ = json.NewEncoder(w).Encode(items)
	}))
	t.Cleanup(a.Close)
	return a
}

func (a *issuesAPI) add(id int) {
	a.mu.Lock()
	a.ids = append([]int{id}, a.ids...)
	a.mu.Unlock()
}

func subjectMsgs(t *testing.T, b *server.Bridge, filter string) uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := b.Bus().JetStream().Stream(ctx, bus.StreamEvents)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(filter))
	if err != nil {
		t.Fatal(err)
	}
	var n uint64
	for _, c := range info.State.Subjects {
		n += c
	}
	return n
}

func call(t *testing.T, b *server.Bridge, method, path string, out any) int {
	t.Helper()
	req, _ := http.NewRequest(method, "http://"+b.Addr()+path, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(body, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, body)
		}
	}
	return resp.StatusCode
}

func TestJobsThroughTheBridge(t *testing.T) {
	api := newIssuesAPI(t, 3, 2, 1)
	yamlText := yamlf(`
instance: {name: node-a}
jobs: {workers: 2}
sources:
  issues:
    type: poll
    url: %s/issues
    every: 1h
    items: '.[]'
    id: '.id'
    auth: {bearer: s3cret-token}
    event: {type: com.example.issue}
  tick:
    type: cron
    every: 300ms
    event: {type: com.example.tick, data: {hello: world}}
`, api.URL)
	cfg, err := config.Parse([]byte(yamlText))
	if err != nil {
		t.Fatal(config.String(err))
	}
	cfg.Bus.DataDir = t.TempDir()
	cfg.API.Listen = "127.0.0.1:0"
	cfg.Lifecycle.Disabled = true
	b := startBridgeConfig(t, cfg)

	// The poll runs at start: both pages, three events in the bus.
	testkit.Eventually(t, 10*time.Second, func() bool { return subjectMsgs(t, b, "events.issues.>") == 3 }, "three issues stored")
	testkit.Eventually(t, 10*time.Second, func() bool { return subjectMsgs(t, b, "events.tick.>") >= 2 }, "ticks stored")

	var list struct{ Items []jobs.Info }
	if code := call(t, b, "GET", "/v1/jobs", &list); code != 200 || len(list.Items) != 2 {
		t.Fatalf("list: %d %+v", code, list)
	}
	poll, tick := list.Items[0], list.Items[1]
	if poll.Name != "issues" || poll.Kind != "poll" || poll.Schedule != "every 1h0m0s" || poll.LeaseHolder != "node-a" || poll.NextRun == nil {
		t.Errorf("poll job %+v", poll)
	}
	if tick.Name != "tick" || tick.Kind != "cron" || tick.LastRun == nil || tick.LastRun.Result != "ok" || tick.LastRun.Items != 1 {
		t.Errorf("cron job %+v (last %+v)", tick, tick.LastRun)
	}

	// Run now: a new issue is emitted, the old ones are not.
	api.add(4)
	hits := api.hits.Load()
	var job jobs.Info
	if code := call(t, b, "POST", "/v1/jobs/issues:run", &job); code != http.StatusAccepted || job.Name != "issues" {
		t.Fatalf("run: %d %+v", code, job)
	}
	testkit.Eventually(t, 10*time.Second, func() bool { return api.hits.Load() == hits+2 }, "the run fetched both pages")
	testkit.Eventually(t, 10*time.Second, func() bool {
		job = jobs.Info{}
		call(t, b, "GET", "/v1/jobs/issues", &job)
		return job.LastRun != nil && job.LastRun.Manual && job.LastRun.Items == 1
	}, "the manual run emitted one item")
	if n := subjectMsgs(t, b, "events.issues.>"); n != 4 {
		t.Errorf("%d issues in the bus, want 4", n)
	}

	// Pause stops the ticks; resume starts them again.
	if code := call(t, b, "POST", "/v1/jobs/tick:pause", &job); code != 200 || !job.Paused {
		t.Fatalf("pause: %d %+v", code, job)
	}
	testkit.Eventually(t, 10*time.Second, func() bool {
		job = jobs.Info{}
		call(t, b, "GET", "/v1/jobs/tick", &job)
		return !job.Running
	}, "a tick in progress ends") // later ones see the pause
	paused := subjectMsgs(t, b, "events.tick.>")
	testkit.Never(t, time.Second, func() bool { return subjectMsgs(t, b, "events.tick.>") > paused }, "ticks while paused")
	if code := call(t, b, "POST", "/v1/jobs/tick:resume", &job); code != 200 || job.Paused {
		t.Fatalf("resume: %d %+v", code, job)
	}
	testkit.Eventually(t, 10*time.Second, func() bool { return subjectMsgs(t, b, "events.tick.>") > paused }, "ticks after resume")

	resp, err := http.Get("http://" + b.Addr() + "/v1/sources/issues")
	if err != nil {
		t.Fatal(err)
	}
	src, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(src), "s3cret-token") || !strings.Contains(string(src), `"bearer": "***"`) {
		t.Errorf("the token is not redacted: %s", src)
	}

	var sched jobs.SchedulerInfo
	if code := call(t, b, "GET", "/v1/scheduler", &sched); code != 200 || sched.Instance != "node-a" || sched.Workers != 2 ||
		sched.Busy+sched.Idle != 2 || sched.RunsPerMinute < 2 || len(sched.Jobs) != 2 || sched.Jobs[0].LeaseHolder != "node-a" || !sched.Jobs[0].HeldHere {
		t.Errorf("scheduler: %d %+v", code, sched)
	}
	for path, want := range map[string]int{"/v1/jobs/nope": 404} {
		if code := call(t, b, "GET", path, nil); code != want {
			t.Errorf("GET %s: %d, want %d", path, code, want)
		}
	}
	for path, want := range map[string]int{"/v1/jobs/nope:run": 404, "/v1/jobs/issues:explode": 404, "/v1/jobs/nope:pause": 404} {
		if code := call(t, b, "POST", path, nil); code != want {
			t.Errorf("POST %s: %d, want %d", path, code, want)
		}
	}
	resp, _ = http.Get("http://" + b.Addr() + "/metrics")
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(metrics), `eventbridge_job_runs_total{job="tick",result="ok"}`) || !strings.Contains(string(metrics), `eventbridge_job_lease_held{job="issues"} 1`) {
		t.Errorf("job metrics missing")
	}

	// Restart on the same data: the seen ids come back from the bus, so
	// the poll at start emits nothing it emitted before.
	if err := stopBridge(b); err != nil {
		t.Fatal(err)
	}
	hits = api.hits.Load()
	b2 := startBridgeConfig(t, cfg)
	testkit.Eventually(t, 10*time.Second, func() bool { return api.hits.Load() >= hits+2 }, "the poll after the restart")
	testkit.Eventually(t, 10*time.Second, func() bool {
		job = jobs.Info{}
		call(t, b2, "GET", "/v1/jobs/issues", &job)
		return job.LastRun != nil && !job.LastRun.Manual && job.LastRun.Result == "ok"
	}, "the poll after the restart finished")
	if job.LastRun.Items != 0 {
		t.Errorf("the poll after a restart emitted %d items again", job.LastRun.Items)
	}
	if n := subjectMsgs(t, b2, "events.issues.>"); n != 4 {
		t.Errorf("%d issues in the bus after the restart, want 4", n)
	}
}
