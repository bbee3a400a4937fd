package cluster

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/testkit"
	"github.com/eventbridge-dev/eventbridge/internal/testkit/natscluster"
)

type opView struct {
	ID       string           `json:"id"`
	State    string           `json:"state"`
	Owner    string           `json:"owner"`
	Progress map[string]int64 `json:"progress"`
	Error    string           `json:"error"`
}

func getOp(t *testing.T, e *env, r *natscluster.Replica, id string) opView {
	t.Helper()
	code, body, err := r.Get(e.ctx, "/v1/replays/"+id)
	if err != nil || code != http.StatusOK {
		t.Fatalf("%s GET replay %s: %d %v %s", r.Name, id, code, err, body)
	}
	var v opView
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// replayed counts the distinct events of source the sink got with
// replayed=true, and all such deliveries.
func replayed(sink *testkit.Sink, source string) (distinct, total int) {
	seen := map[string]bool{}
	for _, d := range sink.Events() {
		if d.Source == source && d.Header.Get("Ce-Replayed") == "true" {
			seen[d.ID] = true
			total++
		}
	}
	return len(seen), total
}

// TestReplaySurvivesItsReplica starts a replay on one of three replicas,
// kills that replica with SIGKILL halfway: another replica shows its
// progress, takes it over within jobs.lease_ttl and completes it, and every
// archived event is replayed at least once.
func TestReplaySurvivesItsReplica(t *testing.T) {
	start := time.Now()
	const ttl = 3 * time.Second
	e := newEnv(t)
	rs := e.deploy("rp", 3, "ack_wait: 2s", fmt.Sprintf(`
jobs: {lease_ttl: %s}
sources: {in: {type: http, path: /events}}
targets: {sink: {type: http, url: "SINK", timeout: 5s}}
rules: {all: {targets: [sink], delivery: {concurrency: 4}}}
`, ttl))
	from := time.Now().UTC().Add(-time.Second)
	l := &natscluster.Load{Rate: 400, Source: "/replay", Prefix: "rp", Path: "/events"}
	l.SetTargets(addrs(rs)...)
	l.Start()
	waitAcked(t, l, 2000, 60*time.Second)
	r := e.settle(l, "/replay", 60*time.Second)
	if r.lost > 0 {
		t.Fatalf("%d events lost before the replay", r.lost)
	}
	// Slow deliveries: the replay of 2000 events takes seconds.
	e.sink.SetDelay(5 * time.Millisecond)
	a, b := rs[0], rs[1]
	req, _ := http.NewRequest(http.MethodPost, a.URL()+"/v1/replays", strings.NewReader(
		fmt.Sprintf(`{"rule":"all","from":%q}`, from.Format(time.RFC3339Nano))))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var op opView
	err = json.NewDecoder(resp.Body).Decode(&op)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST /v1/replays: %s %v", resp.Status, err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for d, _ := replayed(e.sink, "/replay"); d < r.acked/4; d, _ = replayed(e.sink, "/replay") {
		if time.Now().After(deadline) {
			t.Fatalf("the replay does not progress: %d replayed deliveries; on %s: %+v", d, b.Name, getOp(t, e, b, op.ID))
		}
		time.Sleep(20 * time.Millisecond)
	}
	seen := getOp(t, e, b, op.ID)
	if err := a.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	d0, _ := replayed(e.sink, "/replay")
	t.Logf("killed %s, owner of %s, after %d replayed deliveries; %s showed %s owned by %q, progress %v",
		a.Name, op.ID, d0, b.Name, seen.State, seen.Owner, seen.Progress)
	if seen.Owner != a.Name || seen.State != "running" || seen.Progress["delivered"] == 0 {
		t.Errorf("%s does not show the replay running on %s with progress: %+v", b.Name, a.Name, seen)
	}
	var took time.Duration
	testkit.Eventually(t, ttl+15*time.Second, func() bool {
		v := getOp(t, e, b, op.ID)
		if v.Owner != "" && v.Owner != a.Name && took == 0 {
			took = time.Since(killed)
		}
		return took > 0
	}, "no replica took the replay over")
	var end opView
	testkit.Eventually(t, 60*time.Second, func() bool {
		end = getOp(t, e, b, op.ID)
		return end.State != "running"
	}, "the replay did not finish")
	if end.State != "succeeded" {
		t.Fatalf("replay %s: %s %s", op.ID, end.State, end.Error)
	}
	distinct, total := replayed(e.sink, "/replay")
	t.Logf("| replay on 3 replicas, kill its owner | events %d | replayed %d | lost %d | replayed twice %d | taken over after %s | progress %v |",
		r.acked, distinct, r.acked-distinct, total-distinct, took.Round(time.Millisecond), end.Progress)
	if distinct < r.acked {
		t.Errorf("%d of %d events were not replayed", r.acked-distinct, r.acked)
	}
	t.Logf("run time %s", time.Since(start).Round(time.Millisecond))
}
