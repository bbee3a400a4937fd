package mqtt

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
	"github.com/eventbridge-dev/eventbridge/internal/resource"
	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

// logLines records the messages of the records logged through it.
type logLines struct {
	mu   sync.Mutex
	msgs []string
}

func (l *logLines) Enabled(context.Context, slog.Level) bool { return true }
func (l *logLines) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msgs = append(l.msgs, r.Message)
	return nil
}
func (l *logLines) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logLines) WithGroup(string) slog.Handler      { return l }

// count is how many messages contain s.
func (l *logLines) count(s string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, m := range l.msgs {
		if strings.Contains(m, s) {
			n++
		}
	}
	return n
}

// countingProxy forwards loopback connections to addr and counts them; it
// returns its URL and the count.
func countingProxy(t *testing.T, addr string) (string, func() int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	track := func(c net.Conn) {
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			u, err := net.DialTimeout("tcp", addr, 5*time.Second)
			if err != nil {
				c.Close()
				continue
			}
			track(c)
			track(u)
			wg.Add(2)
			go func() { defer wg.Done(); _, _ = io.Copy(u, c); u.Close(); c.Close() }()
			go func() { defer wg.Done(); _, _ = io.Copy(c, u); u.Close(); c.Close() }()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return "mqtt://" + ln.Addr().String(), n.Load
}

// launchSource builds and starts a source without waiting for it to run,
// and stops it when the test ends (or when the returned func is called).
func launchSource(t *testing.T, cfgJSON string, deps connector.Deps) (connector.Source, func()) {
	t.Helper()
	cfg, err := resource.DecodeConnector(resource.KindSource, json.RawMessage(cfgJSON), "source")
	if err != nil {
		t.Fatal(err)
	}
	s, err := newSource("src", cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = s.Stop(ctx)
		})
	}
	t.Cleanup(stop)
	return s, stop
}

// Two sources with one client id: the broker hands the id from one to
// the other on every connection. They back off instead of reconnecting in
// a tight loop, each says once in its log and in its health (so /readyz)
// that the id is taken over, and the one left alone recovers when the
// other goes. mochi says so with DISCONNECT 0x8E in MQTT 5; in 3.1.1 the
// broker just closes the connection.
func TestClientIDTakeover(t *testing.T) {
	for _, v := range []Version{V5, V311} {
		t.Run("v"+string(v), func(t *testing.T) {
			takeover(t, startBroker(t).url(), v, v == V5)
		})
	}
}

// The same against the machine's Mosquitto, whose 2.0 versions close the
// connection without a DISCONNECT in MQTT 5 too.
func TestIntegrationClientIDTakeover(t *testing.T) {
	url := mosquittoURL(t)
	for _, v := range []Version{V5, V311} {
		t.Run("v"+string(v), func(t *testing.T) { takeover(t, url, v, false) })
	}
}

// takeover runs two sources with one client id against url, through a
// proxy that counts their connections; reason0x8E: the broker says why it
// disconnects.
func takeover(t *testing.T, url string, v Version, reason0x8E bool) {
	id := fmt.Sprintf("eb-takeover-%s-%d", v, time.Now().UnixNano())
	url, connects := countingProxy(t, strings.TrimPrefix(url, "mqtt://"))
	// reconnect_max 2s: a connection up for 4s counts as no longer
	// contested, so the test sees the recovery soon.
	cfg := fmt.Sprintf(`{"type":"mqtt","url":%q,"version":%q,"client_id":%q,"topics":[%q],"qos":1,"reconnect_max":"2s"}`, url, v, id, id+"/#")
	type side struct {
		src  connector.Source
		stop func()
		logs *logLines
		deps connector.Deps
	}
	sides := make([]side, 2)
	for i := range sides {
		sd := &sides[i]
		sd.logs = &logLines{}
		sd.deps = connectortest.Deps(connectortest.NewCollector())
		sd.deps.Logger = slog.New(sd.logs)
		sd.src, sd.stop = launchSource(t, cfg, sd.deps)
	}
	// Without a wait before the first retry, thousands.
	testkit.Never(t, 4*time.Second, func() bool { return connects() >= 30 }, "30 connections in under 4s")
	resets := func() float64 {
		n := 0.0
		for _, sd := range sides {
			n += testutil.ToFloat64(sd.deps.Metrics.ConnResets.WithLabelValues("src", "mqtt"))
		}
		return n
	}
	takenOver := func(s connector.Source) bool {
		h := s.Health()
		return h.Detail["client_id_taken_over"] == true && h.State == component.Starting && strings.Contains(h.LastError, "taken over")
	}
	testkit.Eventually(t, 30*time.Second, func() bool { return takenOver(sides[0].src) || takenOver(sides[1].src) },
		"the take-over is in no source's health: %+v / %+v (resets %v)", sides[0].src.Health(), sides[1].src.Health(), resets())
	if reason0x8E {
		testkit.Eventually(t, 10*time.Second, func() bool {
			return strings.Contains(sides[0].src.Health().LastError, "0x8E") || strings.Contains(sides[1].src.Health().LastError, "0x8E")
		}, "the broker's reason is not in the health: %+v / %+v", sides[0].src.Health(), sides[1].src.Health())
	}

	// What /readyz serves.
	reg := component.NewRegistry()
	reg.Add("source/a", sides[0].src)
	reg.Add("source/b", sides[1].src)
	connectortest.Eventually(t, 30*time.Second, func() bool {
		rep := reg.Report()
		return !rep.Ready && rep.Components["source/a"].Detail["client_id_taken_over"] == true && rep.Components["source/b"].Detail["client_id_taken_over"] == true
	}, "not in the readiness report: %+v / %+v", sides[0].src.Health, sides[1].src.Health)

	before := resets()
	var lost [2]int
	for i, sd := range sides {
		lost[i] = sd.logs.count("connection lost")
	}
	testkit.Never(t, 3*time.Second, func() bool { return resets()-before >= 20 }, "20 reconnects in under 3s")
	for i, sd := range sides {
		if n := sd.logs.count("client id taken over"); n != 1 {
			t.Errorf("source %d logged the take-over %d times, want once; log: %q", i, n, sd.logs.msgs)
		}
		if n := sd.logs.count("connection lost"); n != lost[i] {
			t.Errorf("source %d logged %d more lost connections once taken over; log: %q", i, n-lost[i], sd.logs.msgs)
		}
	}

	sides[1].stop()
	left := sides[0]
	connectortest.Eventually(t, 30*time.Second, func() bool {
		h := left.src.Health()
		return h.State == component.Running && h.Detail["client_id_taken_over"] == false
	}, "the source left alone did not recover: %+v", left.src.Health)
	if n := left.logs.count("no longer taken over"); n != 1 {
		t.Errorf("the recovery was logged %d times, want once; log %q", n, left.logs.msgs)
	}
}
