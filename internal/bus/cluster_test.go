package bus

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats-server/v2/server"
)

// logRecorder is a slog.Handler that keeps the messages logged.
type logRecorder struct {
	mu   sync.Mutex
	msgs []string
}

func (r *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *logRecorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	r.msgs = append(r.msgs, rec.Message)
	r.mu.Unlock()
	return nil
}
func (r *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *logRecorder) WithGroup(string) slog.Handler      { return r }

// count is the number of messages logged that start with prefix.
func (r *logRecorder) count(prefix string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, m := range r.msgs {
		if strings.HasPrefix(m, prefix) {
			n++
		}
	}
	return n
}

// testCluster is a 3-node JetStream cluster of in-process servers on free
// loopback ports; each node can be stopped and started again with its
// store.
type testCluster struct {
	t     *testing.T
	opts  []*server.Options
	nodes []*server.Server
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func newTestCluster(t *testing.T) *testCluster {
	c := &testCluster{t: t, nodes: make([]*server.Server, 3)}
	var routes []string
	var cports []int
	for range 3 {
		p := freePort(t)
		cports = append(cports, p)
		routes = append(routes, fmt.Sprintf("nats://127.0.0.1:%d", p))
	}
	for i := range 3 {
		c.opts = append(c.opts, &server.Options{
			ServerName: fmt.Sprintf("n%d", i), Host: "127.0.0.1", Port: freePort(t),
			JetStream: true, StoreDir: t.TempDir(), NoSigs: true, NoLog: true,
			Cluster: server.ClusterOpts{Name: "eb", Host: "127.0.0.1", Port: cports[i]},
			Routes:  server.RoutesFromStr(strings.Join(routes, ",")),
		})
	}
	t.Cleanup(func() {
		for i := range c.nodes {
			c.stop(i)
		}
	})
	return c
}

func (c *testCluster) url() string {
	var urls []string
	for _, o := range c.opts {
		urls = append(urls, fmt.Sprintf("nats://127.0.0.1:%d", o.Port))
	}
	return strings.Join(urls, ",")
}

func (c *testCluster) start(i int) {
	c.t.Helper()
	o := *c.opts[i]
	srv, err := server.NewServer(&o)
	if err != nil {
		c.t.Fatal(err)
	}
	srv.Start()
	if !srv.ReadyForConnections(30 * time.Second) {
		c.t.Fatalf("node %d did not start", i)
	}
	c.nodes[i] = srv
}

func (c *testCluster) stop(i int) {
	if srv := c.nodes[i]; srv != nil {
		srv.Shutdown()
		srv.WaitForShutdown()
		c.nodes[i] = nil
	}
}

// waitFor polls cond every 50ms until it holds, failing after d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// On a 3-node cluster with bus.replicas 3: the bus opens while the
// cluster has no quorum by waiting for it (one log line when the wait
// starts, one when it ends); when the quorum is lost, publishes fail with
// ErrUnavailable and the outage is logged once, not per publish, and
// its end once.
func TestClusterStartWaitsAndOutageIsLoggedOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("a 3-node cluster")
	}
	c := newTestCluster(t)
	c.start(0) // one node of three: no quorum
	logs := &logRecorder{}
	cfg := Config{URL: c.url(), Replicas: 3}
	cfg.Defaults()
	type opened struct {
		b   *Bus
		err error
	}
	done := make(chan opened, 1)
	go func() {
		b, err := Open(context.Background(), cfg, slog.New(logs))
		done <- opened{b, err}
	}()
	waitFor(t, 60*time.Second, "the bus to wait for the cluster", func() bool { return logs.count("waiting for the NATS cluster") > 0 })
	c.start(1)
	c.start(2)
	var b *Bus
	select {
	case o := <-done:
		if o.err != nil {
			t.Fatalf("Open: %v", o.err)
		}
		b = o.b
	case <-time.After(120 * time.Second):
		t.Fatal("Open did not return within 120s of the quorum")
	}
	t.Cleanup(b.Close)
	if n := logs.count("waiting for the NATS cluster"); n != 1 {
		t.Errorf("the wait was logged %d times, want once", n)
	}
	if logs.count("the NATS cluster answers") != 1 {
		t.Error("the end of the wait was not logged once")
	}

	publish := func(id string, d time.Duration) error {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		ev := ce.New()
		ev.SetID(id)
		ev.SetSource("test")
		ev.SetType("t")
		_, err := b.Publish(ctx, "in", []*ce.Event{&ev})
		return err
	}
	if err := publish("first", 30*time.Second); err != nil {
		t.Fatal(err)
	}

	// Two nodes of three gone: no stream leader.
	c.stop(1)
	c.stop(2)
	for i := range 5 {
		err := publish(fmt.Sprintf("down-%d", i), time.Second)
		if err == nil {
			t.Fatal("a publish succeeded without a quorum")
		}
		if !IsUnavailable(err) {
			t.Fatalf("publish without a quorum: %v, not an unavailable bus", err)
		}
	}
	if n := logs.count("bus unavailable"); n != 1 {
		t.Errorf("the outage was logged %d times, want once", n)
	}
	if b.Available() {
		t.Error("Available during the outage")
	}

	c.start(1)
	c.start(2)
	waitFor(t, 90*time.Second, "a publish to succeed again", func() bool { return publish("back", 3*time.Second) == nil })
	waitFor(t, 10*time.Second, "the end of the outage to be logged", func() bool { return logs.count("bus available again") == 1 })
	if n := logs.count("bus unavailable"); n != 1 {
		t.Errorf("the outage was logged %d times, want once", n)
	}
}
