package mqtt

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
)

// startSource builds and starts a source with deps, waits until it runs,
// and stops it when the test ends.
func startSource(t *testing.T, cfgJSON string, deps connector.Deps) connector.Source {
	t.Helper()
	s, _ := launchSource(t, cfgJSON, deps)
	connectortest.Eventually(t, 20*time.Second, func() bool { return s.Health().State == component.Running }, "source not running: %+v", s.Health)
	return s
}

// rawClient publishes raw messages and collects what arrives on filter
// (QoS 0), as a third party would.
type rawClient struct {
	l    link
	mu   sync.Mutex
	msgs []Message
}

func newRawClient(t *testing.T, url string, v Version, filter string) *rawClient {
	t.Helper()
	c := &rawClient{}
	up := make(chan struct{}, 1)
	cfg := &ConnConfig{URL: url, Version: v}
	cfg.defaults()
	lc := linkConfig{conn: cfg, clientID: fmt.Sprintf("raw-%d", time.Now().UnixNano()), cleanStart: true,
		onState: func(ok bool, _ error) {
			if ok {
				select {
				case up <- struct{}{}:
				default:
				}
			}
		}}
	if filter != "" {
		lc.subs = []subscription{{filter: filter}}
		lc.onMessage = func(d delivery) { c.mu.Lock(); c.msgs = append(c.msgs, d.msg); c.mu.Unlock(); d.ack() }
	}
	l, err := dial(lc)
	if err != nil {
		t.Fatal(err)
	}
	c.l = l
	t.Cleanup(func() { _ = l.close(context.Background()) })
	select {
	case <-up:
	case <-time.After(10 * time.Second):
		t.Fatal("raw client not connected")
	}
	return c
}

func (c *rawClient) publish(t *testing.T, m Message) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.l.publish(ctx, &m); err != nil {
		t.Fatal(err)
	}
}

func (c *rawClient) received() []Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Message(nil), c.msgs...)
}

var binaryCE = []Property{{"specversion", "1.0"}, {"id", "ok-1"}, {"source", "/raw"}, {"type", "t"}}

// Messages that are not valid CloudEvents go to the dead-letter topic as
// they came, with the reason, and are counted; valid ones are stored.
func TestDeadLetter(t *testing.T) {
	b := startBroker(t)
	deps := connectortest.Deps(connectortest.NewCollector())
	col := deps.Ingest.(*connectortest.Collector)
	startSource(t, fmt.Sprintf(`{"type":"mqtt","url":%q,"topics":["in/#"],"qos":0,"dead_letter":"dlq/in"}`, b.url()), deps)
	dlq := newRawClient(t, b.url(), V5, "dlq/#")
	pub := newRawClient(t, b.url(), V5, "")
	pub.publish(t, Message{Topic: "in/a", Payload: []byte("plain text")})
	pub.publish(t, Message{Topic: "in/b", Properties: binaryCE[:3], Payload: []byte("{}")}) // no type
	pub.publish(t, Message{Topic: "in/c", Properties: binaryCE, ContentType: "application/json", Payload: []byte(`{"a":1}`)})
	connectortest.Eventually(t, 10*time.Second, func() bool { return len(dlq.received()) == 2 && col.Count() == 1 }, "dead letters %d, stored %d", func() int { return len(dlq.received()) }, col.Count)
	for _, m := range dlq.received() {
		props := map[string]string{}
		for _, p := range m.Properties {
			props[p.Key] = p.Value
		}
		if props["eventbridge-error"] == "" || props["eventbridge-topic"] == "" {
			t.Errorf("dead letter without reason or topic: %+v", m)
		}
		if m.Topic != "dlq/in" {
			t.Errorf("dead letter on %s", m.Topic)
		}
	}
	if n := testutil.ToFloat64(deps.Metrics.Rejected.WithLabelValues("src", "invalid")); n != 2 {
		t.Errorf("rejected{invalid} = %v, want 2", n)
	}
	if n := testutil.ToFloat64(deps.Metrics.ConnMessages.WithLabelValues("src", "mqtt", "in", "invalid")); n != 2 {
		t.Errorf("messages{in,invalid} = %v, want 2", n)
	}
	if n := testutil.ToFloat64(deps.Metrics.Received.WithLabelValues("src")); n != 3 {
		t.Errorf("received = %v, want 3", n)
	}
}

// With wrap, a message that is not a CloudEvent becomes one (the topic
// as subject); an invalid CloudEvent is still refused.
func TestWrap(t *testing.T) {
	for _, v := range []Version{V5, V311} {
		t.Run("v"+string(v), func(t *testing.T) {
			b := startBroker(t)
			deps := connectortest.Deps(connectortest.NewCollector())
			col := deps.Ingest.(*connectortest.Collector)
			startSource(t, fmt.Sprintf(`{"type":"mqtt","url":%q,"version":%q,"topics":["in/#"],"qos":0,"wrap":{"type":"com.example.raw","source":"/mqtt"}}`, b.url(), v), deps)
			pub := newRawClient(t, b.url(), v, "")
			pub.publish(t, Message{Topic: "in/sensor-1", Payload: []byte("21.5")})
			pub.publish(t, Message{Topic: "in/bad", Payload: []byte(`{"specversion":"1.0","id":""}`)})
			pub.publish(t, Message{Topic: "in/last", Payload: []byte("last")})
			connectortest.Eventually(t, 10*time.Second, func() bool { return col.Count() == 2 }, "stored %d", col.Count)
			e := col.Events()[0]
			if e.Type() != "com.example.raw" || e.Source() != "/mqtt" || e.Subject() != "in/sensor-1" || string(e.Data()) != "21.5" || e.ID() == "" {
				t.Fatalf("wrapped %v", e)
			}
			connectortest.Eventually(t, 5*time.Second, func() bool {
				return testutil.ToFloat64(deps.Metrics.Rejected.WithLabelValues("src", "invalid")) == 1
			}, "the invalid event was not counted")
		})
	}
}
