// Package connectortest is the conformance suite every connector runs: the
// same scenarios against every source and target, gated by the features a
// connector declares. A connector's own test file describes how to reach
// its broker and calls Run.
//
// The scenarios pair the connector's target with its source on one channel
// (topic, subject, queue, stream…): events sent by the target must come out
// of the source unchanged. That proves both halves of the protocol binding
// against the real broker; wire-level checks against the binding specs'
// examples belong in the connector's own tests.
package connectortest

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/connector"
	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
	"github.com/eventbridge-dev/eventbridge/internal/resource"
	"github.com/eventbridge-dev/eventbridge/internal/telemetry"
)

// Features are what a connector promises; scenarios that need a feature it
// lacks are skipped with that reason.
type Features struct {
	// Modes the target can send in and the source can read: "binary",
	// "structured". The suite sets the mode with Harness.Mode.
	Modes []string
	// Persistent: the broker keeps unacknowledged messages, so a source
	// that fails to store an event sees it again.
	Persistent bool
	// Ordered: events with the same partition key arrive in order.
	Ordered bool
	// MaxData is the largest data the protocol carries (0: 1 MiB).
	MaxData int
	// Window, when set, bounds the events sent but not yet received in the
	// bulk scenario, for brokers that drop what a slow subscriber has not
	// taken (a broker limit, not the connector's loss).
	Window int
}

// Harness tells the suite how to use one connector.
type Harness struct {
	Features
	// SourceType and TargetType are the registered type names.
	SourceType, TargetType string
	// Source returns the JSON config of a source reading channel.
	Source func(t testing.TB, channel string) string
	// Target returns the JSON config of a target writing to channel in
	// mode (one of Features.Modes).
	Target func(t testing.TB, channel, mode string) string
	// RestartBroker, when set, stops the broker and starts it again (and
	// leaves it running); the reconnect scenario uses it.
	RestartBroker func(t testing.TB)
}

// Run runs every scenario.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.MaxData == 0 {
		h.MaxData = 1 << 20
	}
	for _, mode := range h.Modes {
		t.Run("RoundTrip/"+mode, func(t *testing.T) { roundTrip(t, h, mode) })
	}
	t.Run("LargeData", func(t *testing.T) { largeData(t, h) })
	t.Run("TenThousand", func(t *testing.T) { tenThousand(t, h) })
	t.Run("TooManyExtensions", func(t *testing.T) { tooManyExtensions(t, h) })
	t.Run("RedeliveryAfterFailedStore", func(t *testing.T) {
		if !h.Persistent {
			t.Skip("the broker does not keep unacknowledged messages")
		}
		redelivery(t, h)
	})
	t.Run("ReconnectAfterBrokerRestart", func(t *testing.T) {
		if h.RestartBroker == nil {
			t.Skip("no way to restart the broker in this environment")
		}
		reconnect(t, h)
	})
	t.Run("OrderPerKey", func(t *testing.T) {
		if !h.Ordered {
			t.Skip("the protocol does not promise order")
		}
		orderPerKey(t, h)
	})
}

// Channel returns a channel name unique to the test.
func Channel(t testing.TB) string {
	name := strings.NewReplacer("/", "-", " ", "-", "#", "").Replace(strings.ToLower(t.Name()))
	return fmt.Sprintf("ebtest-%s-%d", name, time.Now().UnixNano()%1e9)
}

// Collector is an Ingester that keeps what it stores. Fail makes the next
// n Ingest calls fail (as when the bus is down).
type Collector struct {
	mu     sync.Mutex
	events []*ce.Event
	ids    map[string]int
	fail   int
	calls  int
}

// NewCollector returns an empty collector.
func NewCollector() *Collector { return &Collector{ids: map[string]int{}} }

// Ingest implements connector.Ingester. Events are stored as the bus
// stores them: written to the JSON format and read back.
func (c *Collector) Ingest(_ context.Context, _ string, events []*ce.Event) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	if c.fail > 0 {
		c.fail--
		return fmt.Errorf("collector: failing on purpose")
	}
	for _, e := range events {
		b, err := e.MarshalJSON()
		if err != nil {
			return err
		}
		back := ce.New()
		if err := back.UnmarshalJSON(b); err != nil {
			return err
		}
		c.events = append(c.events, &back)
		c.ids[e.Source()+"\x00"+e.ID()]++
	}
	return nil
}

// Calls is the number of Ingest calls so far, failed ones included.
func (c *Collector) Calls() int { c.mu.Lock(); defer c.mu.Unlock(); return c.calls }

// Fail makes the next n calls fail.
func (c *Collector) Fail(n int) { c.mu.Lock(); c.fail = n; c.mu.Unlock() }

// Events returns what was stored.
func (c *Collector) Events() []*ce.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*ce.Event(nil), c.events...)
}

// Distinct is the number of distinct (source, id) pairs stored.
func (c *Collector) Distinct() int { c.mu.Lock(); defer c.mu.Unlock(); return len(c.ids) }

// Count is the number of events stored, duplicates included.
func (c *Collector) Count() int { c.mu.Lock(); defer c.mu.Unlock(); return len(c.events) }

var _ connector.Ingester = (*Collector)(nil)

// StartSource builds and starts a source from its JSON config; it is
// stopped when the test ends.
func StartSource(t testing.TB, name, cfgJSON string, ing connector.Ingester) connector.Source {
	t.Helper()
	s := StartSourceWith(t, name, cfgJSON, Deps(ing))
	// Broker sources connect and subscribe in the background and report
	// Running once they receive. Wait for that: on a broker that keeps
	// nothing for a topic without subscribers (MQTT, core NATS), events
	// sent before would be lost by design, not by the connector.
	Eventually(t, 30*time.Second, func() bool { return s.Health().State == component.Running }, "source not running: %+v", s.Health)
	return s
}

// StartSourceWith is StartSource with deps of the caller's (to read the
// metrics, say).
func StartSourceWith(t testing.TB, name, cfgJSON string, deps connector.Deps) connector.Source {
	t.Helper()
	cfg, err := resource.DecodeConnector(resource.KindSource, json.RawMessage(cfgJSON), "source")
	if err != nil {
		t.Fatalf("source config: %v", err)
	}
	typ, _ := connector.LookupSource(cfg.Base().Type)
	s, err := typ.New(name, cfg, deps)
	if err != nil {
		t.Fatalf("new source: %v", err)
	}
	Start(t, "source", s)
	return s
}

// StartTarget builds and starts a target from its JSON config; it is
// stopped when the test ends.
func StartTarget(t testing.TB, name, cfgJSON string) connector.Target {
	t.Helper()
	return StartTargetWith(t, name, cfgJSON, Deps(nil))
}

// StartTargetWith is StartTarget with deps of the caller's.
func StartTargetWith(t testing.TB, name, cfgJSON string, deps connector.Deps) connector.Target {
	t.Helper()
	cfg, err := resource.DecodeConnector(resource.KindTarget, json.RawMessage(cfgJSON), "target")
	if err != nil {
		t.Fatalf("target config: %v", err)
	}
	typ, _ := connector.LookupTarget(cfg.Base().Type)
	tg, err := typ.New(name, cfg, deps)
	if err != nil {
		t.Fatalf("new target: %v", err)
	}
	Start(t, "target", tg)
	return tg
}

// Start starts c (what names it in a failure) and stops it when the test
// ends.
func Start(t testing.TB, what string, c interface {
	Start(context.Context) error
	Stop(context.Context) error
}) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.Start(ctx); err != nil {
		t.Fatalf("start %s: %v", what, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = c.Stop(ctx)
	})
}

// Deps are connector dependencies for tests.
func Deps(ing connector.Ingester) connector.Deps {
	lvl := slog.LevelWarn
	if os.Getenv("EVENTBRIDGE_TEST_DEBUG") != "" {
		lvl = slog.LevelDebug
	}
	return connector.Deps{
		Logger:  slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl})),
		Ingest:  ing,
		Metrics: telemetry.NewMetrics(),
	}
}

// Send delivers e through tg, retrying while the connector says it is not
// connected yet (for at most 30s). It calls t.Fatalf, so call it from the
// test's goroutine only; other goroutines use TrySend.
func Send(t testing.TB, tg connector.Target, e *ce.Event) {
	t.Helper()
	if err := TrySend(tg, e); err != nil {
		t.Fatal(err)
	}
}

// TrySend is Send that returns the error instead of failing the test.
func TrySend(tg connector.Target, e *ce.Event) error { return TrySendFor(tg, e, 30*time.Second) }

// TrySendFor is TrySend that gives up after d.
func TrySendFor(tg connector.Target, e *ce.Event, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := tg.Send(ctx, e)
		cancel()
		if err == nil {
			return nil
		}
		if connector.IsPermanent(err) || time.Now().After(deadline) {
			return fmt.Errorf("send %s: %w", e.ID(), err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Eventually polls cond until it holds or the timeout passes. Arguments
// that are funcs returning one value (col.Distinct, src.Health) are
// called when the message is written, so that it shows the final state
// rather than the one before polling.
func Eventually(t testing.TB, timeout time.Duration, cond func() bool, format string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			for i, a := range args {
				switch f := a.(type) {
				case func() int:
					args[i] = f()
				case func() component.Status:
					args[i] = f()
				}
			}
			t.Fatalf("timed out after %s: "+format, append([]any{timeout}, args...)...)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// SameEvent fails the test if got differs from want in any attribute,
// extension or the data. Attributes are compared in their canonical string
// form: binary modes carry every attribute as a string, so an integer
// extension 42 arrives as "42", which the CloudEvents type system allows.
func SameEvent(t testing.TB, want, got *ce.Event) {
	t.Helper()
	if got == nil {
		t.Fatalf("event %s never arrived", want.ID())
	}
	wa, ga := ebevent.BinaryAttributes(want), ebevent.BinaryAttributes(got)
	wa["datacontenttype"], ga["datacontenttype"] = want.DataContentType(), got.DataContentType()
	wb, _ := json.Marshal(wa)
	gb, _ := json.Marshal(ga)
	if string(wb) != string(gb) {
		t.Fatalf("attributes changed on the way:\nsent     %s\nreceived %s", wb, gb)
	}
	wd, gd := want.Data(), got.Data()
	if ebevent.IsJSONContentType(want.DataContentType()) && len(wd) > 0 {
		var wv, gv any
		_ = json.Unmarshal(wd, &wv)
		_ = json.Unmarshal(gd, &gv)
		wj, _ := json.Marshal(wv)
		gj, _ := json.Marshal(gv)
		wd, gd = wj, gj
	}
	if string(wd) != string(gd) {
		t.Fatalf("data changed on the way:\nsent     %q\nreceived %q", wd, gd)
	}
}
