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

// TestPrefixesIsolateDeployments runs two deployments of two replicas
// each, with bus.prefix a and b, on one cluster and one NATS account, with
// the same names for their sources, targets and rules: neither sees the
// other's events, rules made through the API, or dead letters.
func TestPrefixesIsolateDeployments(t *testing.T) {
	start := time.Now()
	e := newEnv(t)
	sinkB := testkit.NewSink(t)
	bad := testkit.NewSink(t)
	bad.SetStatus(func(int64) int { return http.StatusBadRequest }) // permanent: dead-lettered at once
	body := func(sink string) string {
		return fmt.Sprintf(`
sources: {in: {type: http, path: /events}}
targets:
  sink: {type: http, url: %q, timeout: 5s}
  bad: {type: http, url: %q, timeout: 5s}
rules:
  all: {targets: [sink]}
  dead: {targets: [bad]}
`, sink, bad.URL)
	}
	as := e.deploy("pa", 2, "prefix: a, ack_wait: 2s", body(e.sink.URL))
	bs := e.deploy("pb", 2, "prefix: b, ack_wait: 2s", body(sinkB.URL))

	const n = 100
	la := &natscluster.Load{Rate: 200, Source: "/a", Prefix: "a", Path: "/events"}
	lb := &natscluster.Load{Rate: 200, Source: "/b", Prefix: "b", Path: "/events"}
	la.SetTargets(addrs(as)...)
	lb.SetTargets(addrs(bs)...)
	la.Start()
	lb.Start()
	testkit.Eventually(t, 30*time.Second, func() bool { return la.Acked() >= n && lb.Acked() >= n }, "loads stuck at %d, %d", la.Acked(), lb.Acked())
	ra := e.settle(la, "/a", 30*time.Second)
	rb := settleOn(e, sinkB, lb, "/b")
	ra.log(t, "prefix a")
	rb.log(t, "prefix b")
	if ra.lost+rb.lost > 0 {
		t.Errorf("lost: a %d, b %d", ra.lost, rb.lost)
	}
	// Each sink got its own deployment's events only.
	for sink, want := range map[*testkit.Sink]string{e.sink: "/a", sinkB: "/b"} {
		for _, d := range sink.Events() {
			if d.Source != want {
				t.Fatalf("the sink of deployment %s got an event of %s (%s)", want, d.Source, d.ID)
			}
		}
	}

	// A rule made through the API on a: known to a's replicas, not to b's.
	req, _ := http.NewRequest(http.MethodPut, as[0].URL()+"/v1/rules/extra", strings.NewReader(`{"targets":["sink"]}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT rule extra on a: %s", resp.Status)
	}
	testkit.Eventually(t, 10*time.Second, func() bool {
		code, _, _ := as[1].Get(e.ctx, "/v1/rules/extra")
		return code == http.StatusOK
	}, "the rule made on %s is not on %s", as[0].Name, as[1].Name)
	for _, r := range bs {
		if code, body, _ := r.Get(e.ctx, "/v1/rules/extra"); code != http.StatusNotFound {
			t.Errorf("%s (prefix b) sees the rule made on a: %d %s", r.Name, code, body)
		}
	}

	// Dead letters: every event of each deployment, and only those.
	for _, d := range []struct {
		r      *natscluster.Replica
		source string
		want   int
	}{{as[1], "/a", ra.acked}, {bs[1], "/b", rb.acked}} {
		var got int
		testkit.Eventually(t, 30*time.Second, func() bool {
			got = countLetters(t, e, d.r, d.source)
			return got >= d.want
		}, "%s: %d dead letters of %s, want %d", d.r.Name, got, d.source, d.want)
	}

	// On the cluster: two sets of streams, each holding its own events.
	var names []string
	ss, err := e.cluster.Nodes[0].Streams(e.ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range ss {
		names = append(names, fmt.Sprintf("%s=%d", s.Name, s.State.Msgs))
	}
	t.Logf("streams: %s", strings.Join(names, " "))
	t.Logf("run time %s", time.Since(start).Round(time.Millisecond))
}

// countLetters pages through the dead letters of rule dead on r and counts
// those of source; a letter of another source fails the test.
func countLetters(t *testing.T, e *env, r *natscluster.Replica, source string) int {
	t.Helper()
	n, token := 0, ""
	for {
		code, body, err := r.Get(e.ctx, "/v1/rules/dead/deadletters?limit=500&page_token="+token)
		if err != nil || code != http.StatusOK {
			t.Fatalf("%s dead letters: %d %v %s", r.Name, code, err, body)
		}
		var l struct {
			Items []struct {
				Event map[string]any `json:"event"`
			} `json:"items"`
			Next string `json:"next_page_token"`
		}
		if err := json.Unmarshal(body, &l); err != nil {
			t.Fatal(err)
		}
		for _, it := range l.Items {
			if s := fmt.Sprint(it.Event["source"]); s != source {
				t.Fatalf("%s lists a dead letter of %s", r.Name, s)
			}
			n++
		}
		if l.Next == "" {
			return n
		}
		token = l.Next
	}
}

// settleOn is env.settle for a sink of another deployment.
func settleOn(e *env, sink *testkit.Sink, l *natscluster.Load, source string) report {
	other := *e
	other.sink = sink
	return other.settle(l, source, 30*time.Second)
}
