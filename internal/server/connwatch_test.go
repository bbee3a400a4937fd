package server_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

// cutProxy forwards a loopback port to a broker; Cut closes every
// connection and refuses (accepts and closes) new ones, counting them,
// until Restore.
type cutProxy struct {
	addr    string
	target  string
	mu      sync.Mutex
	ln      net.Listener
	conns   []net.Conn
	cut     bool
	refused int
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	p := &cutProxy{target: target}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr, p.ln = ln.Addr().String(), ln
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			if p.cut {
				p.refused++
				p.mu.Unlock()
				c.Close()
				continue
			}
			p.mu.Unlock()
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(up, c); up.Close() }()
			go func() { _, _ = io.Copy(c, up); c.Close() }()
		}
	}()
	t.Cleanup(func() { ln.Close(); p.Cut() })
	return p
}

// Cut closes every connection and refuses new ones.
func (p *cutProxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// Refused returns how many connections were refused since Cut.
func (p *cutProxy) Refused() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.refused
}

// Restore forwards new connections again.
func (p *cutProxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = false
}

// A broker connector that loses its connection and regains it publishes
// connector_disconnected (after the grace period) and
// connector_reconnected, once each however many retries it took.
func TestConnectorReconnectLifecycleEvents(t *testing.T) {
	// amqp reconnects in the bridge's own loop (conntrack.Conn), mqtt in
	// its client library (conntrack.Changes from its callbacks).
	t.Run("amqp", func(t *testing.T) {
		reconnectLifecycle(t, "127.0.0.1:5672", "RabbitMQ", `{type: amqp, url: "amqp://%s", routing_key: eb-connwatch-test, reconnect_max: 200ms}`, "amqp")
	})
	t.Run("mqtt", func(t *testing.T) {
		reconnectLifecycle(t, "127.0.0.1:1883", "Mosquitto", `{type: mqtt, url: "mqtt://%s", topic: eb/connwatch, client_id: eb-connwatch-test}`, "mqtt")
	})
}

// reconnectLifecycle cuts a target's connection to the broker at addr
// (through a proxy) for longer than the grace, and restores it: one
// connector_disconnected, one connector_reconnected, one log line each.
func reconnectLifecycle(t *testing.T, addr, broker, target, typ string) {
	if c, err := net.DialTimeout("tcp", addr, 2*time.Second); err != nil {
		testkit.Missing(t, "no %s on %s: %v", broker, addr, err)
	} else {
		c.Close()
	}
	proxy := newCutProxy(t, addr)
	sink := testkit.NewSink(t)
	b := startBridge(t, yamlf(`
lifecycle: {alive_interval: 1h, disconnect_grace: 200ms}
targets:
  life: {type: http, url: %q, mode: structured}
  q: `+fmt.Sprintf(target, proxy.addr)+`
rules:
  lifecycle: {sources: [eventbridge], targets: [life]}
`, sink.URL))
	connected := func() bool {
		return testutil.ToFloat64(b.Metrics().ConnConnected.WithLabelValues("q", typ)) == 1
	}
	testkit.Eventually(t, 30*time.Second, connected, "the target never connected")

	events := func(typ string) []map[string]any {
		var out []map[string]any
		for _, e := range sink.Events() {
			var m map[string]any
			_ = json.Unmarshal(e.Body, &m)
			if m["type"] == "io.eventbridge.lifecycle.v1."+typ {
				out = append(out, m["data"].(map[string]any))
			}
		}
		return out
	}
	proxy.Cut()
	testkit.Eventually(t, 30*time.Second, func() bool { return len(events("connector_disconnected")) == 1 }, "no connector_disconnected")
	d := events("connector_disconnected")[0]
	if d["connector"] != "q" || d["connector_type"] != typ || d["error"] == nil {
		t.Errorf("connector_disconnected data %v", d)
	}
	// Retries go on: still one event.
	n := proxy.Refused()
	testkit.Eventually(t, 30*time.Second, func() bool { return proxy.Refused() >= n+3 }, "the connector does not retry")
	proxy.Restore()
	testkit.Eventually(t, 30*time.Second, func() bool { return len(events("connector_reconnected")) == 1 }, "no connector_reconnected")
	if r := events("connector_reconnected")[0]; r["connector"] != "q" || r["down_seconds"].(float64) < 0.2 {
		t.Errorf("connector_reconnected data %v", r)
	}
	if n := len(events("connector_disconnected")); n != 1 {
		t.Errorf("%d connector_disconnected events for one outage", n)
	}
	code, body := raw(t, "http://"+b.Addr(), "", "GET", "/v1/logs?component=connector", "")
	if code != 200 || strings.Count(body, `"msg":"connector disconnected"`) != 1 || strings.Count(body, `"msg":"connector reconnected"`) != 1 {
		t.Errorf("log lines: %d %s", code, body)
	}
}
