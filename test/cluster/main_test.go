// Package cluster runs eventbridge the way it scales out: three replicas on
// a three-node NATS JetStream cluster (bus.replicas: 3), all child
// processes on loopback, and kills replicas and NATS nodes under load. Each
// test logs one line: sent, acknowledged, delivered, lost, duplicated and
// the longest gap in deliveries (docs/scale-out.md has the table).
package cluster

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/testkit"
	"github.com/eventbridge-dev/eventbridge/internal/testkit/natscluster"
)

// bins are nats-server, built from the module graph, and the bridge
// ($EVENTBRIDGE_BIN, or built), once per run.
var bins natscluster.Binaries

func TestMain(m *testing.M) {
	code := func() int {
		flag.Parse()
		if testing.Short() {
			return m.Run() // every test skips
		}
		dir, err := os.MkdirTemp("", "eventbridge-cluster")
		if err != nil {
			panic(err)
		}
		defer os.RemoveAll(dir)
		root, err := testkit.RepoRoot()
		if err != nil {
			panic(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		if bins, err = natscluster.Build(ctx, root, dir, os.Getenv("EVENTBRIDGE_BIN")); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return m.Run()
	}()
	os.Exit(code)
}

// env is one test's cluster, replicas and sink.
type env struct {
	t        *testing.T
	ctx      context.Context
	cluster  *natscluster.Cluster
	replicas []*natscluster.Replica
	sink     *testkit.Sink
	dir      string
}

// newEnv starts a 3-node cluster and a sink. Replicas come with deploy.
func newEnv(t *testing.T) *env {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a NATS cluster and bridge replicas")
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	e := &env{t: t, ctx: ctx, dir: t.TempDir(), sink: testkit.NewSink(t)}
	c, err := natscluster.StartCluster(ctx, bins.NATSServer, filepath.Join(e.dir, "nats"), 3)
	if err != nil {
		t.Fatalf("cluster: %v", err)
	}
	e.cluster = c
	t.Cleanup(func() {
		for _, r := range e.replicas {
			_ = r.Kill()
		}
		if t.Failed() {
			e.dumpLogs()
		}
		c.Close()
	})
	return e
}

// deploy starts n replicas named <name>-1..n of a deployment whose bus map
// has busExtra and whose config ends with body (SINK in body is the
// sink's URL).
func (e *env) deploy(name string, n int, busExtra, body string) []*natscluster.Replica {
	e.t.Helper()
	var out []*natscluster.Replica
	for i := 1; i <= n; i++ {
		port, err := natscluster.FreePort()
		if err != nil {
			e.t.Fatal(err)
		}
		rname := fmt.Sprintf("%s-%d", name, i)
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		cfg := natscluster.ReplicaConfig(rname, addr, e.cluster.URL(), busExtra, strings.ReplaceAll(body, "SINK", e.sink.URL))
		r, err := natscluster.StartReplica(e.ctx, bins.Bridge, filepath.Join(e.dir, "bridge"), rname, addr, cfg)
		if r != nil {
			e.replicas = append(e.replicas, r)
		}
		if err != nil {
			e.t.Fatalf("replica %s: %v", rname, err)
		}
		out = append(out, r)
	}
	return out
}

func (e *env) dumpLogs() {
	for _, r := range e.replicas {
		e.t.Logf("--- replica %s (last 3000 bytes):\n%s", r.Name, tail(r.Log(), 3000))
	}
	for _, n := range e.cluster.Nodes {
		e.t.Logf("--- nats %s (last 1500 bytes):\n%s", n.Name, tail(n.Log(), 1500))
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func addrs(rs []*natscluster.Replica) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Addr)
	}
	return out
}

// routeAll is the body of a deployment that sends every event of its HTTP
// source at /events to the sink.
const routeAll = `
sources: {in: {type: http, path: /events}}
targets: {sink: {type: http, url: "SINK", timeout: 5s}}
rules: {all: {targets: [sink], delivery: {concurrency: 16, backoff: {initial: 100ms, max: 1s}}}}
`

// report is what each test measures.
type report struct {
	sent, acked, delivered, lost, dup int
	gap                               time.Duration
	answers                           map[int]int
	windows                           map[int]time.Duration
}

// settle stops the load, waits until every acknowledged event reached the
// sink (or within passes), and measures.
func (e *env) settle(l *natscluster.Load, source string, within time.Duration) report {
	e.t.Helper()
	l.Stop()
	evs := l.Events()
	deadline := time.Now().Add(within)
	for {
		missing := 0
		for _, ev := range evs {
			if !ev.AckedAt.IsZero() && !e.sink.Has(source, ev.ID) {
				missing++
			}
		}
		if missing == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	var r report
	r.sent = len(evs)
	got := map[string]int{}
	var times []time.Time
	for _, d := range e.sink.Events() {
		if d.Source != source {
			continue
		}
		got[d.ID]++
		times = append(times, d.At)
	}
	for _, ev := range evs {
		if ev.AckedAt.IsZero() {
			continue
		}
		r.acked++
		if got[ev.ID] > 0 {
			r.delivered++
		} else {
			r.lost++
		}
	}
	for _, n := range got {
		r.dup += n - 1
	}
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	for i := 1; i < len(times); i++ {
		r.gap = max(r.gap, times[i].Sub(times[i-1]))
	}
	r.answers, r.windows = l.Answers()
	return r
}

func (r report) log(t *testing.T, name string) {
	t.Helper()
	var refused []string
	for code, n := range r.answers {
		if code/100 == 2 {
			continue
		}
		what := fmt.Sprint(code)
		if code == 0 {
			what = "no connection"
		}
		refused = append(refused, fmt.Sprintf("%s: %d over %s", what, n, r.windows[code].Round(time.Millisecond)))
	}
	sort.Strings(refused)
	t.Logf("| %s | sent %d | acknowledged %d | delivered %d | lost %d | duplicated %d | longest gap %s | refused: %s |",
		name, r.sent, r.acked, r.delivered, r.lost, r.dup, r.gap.Round(time.Millisecond), strings.Join(refused, ", "))
}

// waitAcked waits until the load has n more acknowledged events than now.
func waitAcked(t *testing.T, l *natscluster.Load, n int, within time.Duration) {
	t.Helper()
	target := l.Acked() + n
	testkit.Eventually(t, within, func() bool { return l.Acked() >= target }, "the load is stuck at %d acknowledged events", l.Acked())
}
