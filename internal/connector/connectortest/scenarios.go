package connectortest

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
)

// Sample returns an event with every attribute type: all optional context
// attributes, string, integer, boolean, binary, URI and time extensions,
// non-ASCII values, and JSON data.
func Sample(id string) *ce.Event {
	e := ce.New()
	e.SetID(id)
	e.SetSource("/connectortest/Zürich")
	e.SetType("com.example.connectortest.sample")
	e.SetSubject("orders/42 €")
	e.SetTime(time.Date(2026, 11, 21, 10, 11, 12, 123456789, time.UTC))
	e.SetDataSchema("https://example.com/schemas/sample.json")
	e.SetExtension("strext", "a value with spaces, quotes \" and ünïcödé")
	e.SetExtension("intext", 42)
	e.SetExtension("boolext", true)
	e.SetExtension("partitionkey", "key-1")
	_ = e.SetData(ce.ApplicationJSON, map[string]any{"total": 42, "items": []string{"a", "b"}, "note": "ok 😀"})
	return &e
}

func roundTrip(t *testing.T, h Harness, mode string) {
	ch := Channel(t)
	col := NewCollector()
	StartSource(t, "src", h.Source(t, ch), col)
	tg := StartTarget(t, "tgt", h.Target(t, ch, mode))
	sent := []*ce.Event{Sample("rt-1")}
	minimal := ce.New()
	minimal.SetID("rt-2")
	minimal.SetSource("/min")
	minimal.SetType("t")
	sent = append(sent, &minimal)
	text := ce.New()
	text.SetID("rt-3")
	text.SetSource("/text")
	text.SetType("t")
	_ = text.SetData("text/plain", "plain text, not JSON")
	sent = append(sent, &text)
	for _, e := range sent {
		Send(t, tg, e)
	}
	Eventually(t, 30*time.Second, func() bool { return col.Distinct() == len(sent) }, "the source got %d of %d events", col.Distinct, len(sent))
	got := map[string]*ce.Event{}
	for _, e := range col.Events() {
		got[e.ID()] = e
	}
	for _, e := range sent {
		SameEvent(t, e, got[e.ID()])
	}
}

func largeData(t *testing.T, h Harness) {
	ch := Channel(t)
	col := NewCollector()
	StartSource(t, "src", h.Source(t, ch), col)
	tg := StartTarget(t, "tgt", h.Target(t, ch, h.Modes[0]))
	e := ce.New()
	e.SetID("large-1")
	e.SetSource("/large")
	e.SetType("t")
	payload := bytes.Repeat([]byte("0123456789abcdef"), (h.MaxData-2048)/16)
	_ = e.SetData("application/octet-stream", payload)
	Send(t, tg, &e)
	Eventually(t, 60*time.Second, func() bool { return col.Distinct() == 1 }, "large event not received")
	if got := col.Events()[0].Data(); !bytes.Equal(got, payload) {
		t.Fatalf("data of %d bytes came back as %d bytes", len(payload), len(got))
	}
}

func tenThousand(t *testing.T, h Harness) {
	const n = 10000
	ch := Channel(t)
	col := NewCollector()
	StartSource(t, "src", h.Source(t, ch), col)
	tg := StartTarget(t, "tgt", h.Target(t, ch, h.Modes[0]))
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				// A broker that drops what a slow subscriber has not taken
				// yet (Mosquitto beyond max_queued_messages) is given a window.
				for h.Window > 0 && i-col.Distinct() > h.Window && !t.Failed() {
					time.Sleep(time.Millisecond)
				}
				e := ce.New()
				e.SetID(fmt.Sprintf("n-%05d", i))
				e.SetSource("/many")
				e.SetType("t")
				_ = e.SetData(ce.ApplicationJSON, map[string]int{"i": i})
				if err := TrySend(tg, &e); err != nil {
					t.Error(err) // not Fatal: this is not the test's goroutine
					return
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	// A slow broker is not a lost event: wait while events keep arriving,
	// and fail when none arrives for a minute (or after ten minutes in
	// all). The counts tell a stall from redeliveries.
	start := time.Now()
	waitProgress(t, 60*time.Second, 10*time.Minute, col.Distinct, n)
	t.Logf("%d events received in %s after the last send; %d deliveries in %d stores",
		n, time.Since(start).Round(time.Millisecond), col.Count(), col.Calls())
}

// waitProgress waits until got() reaches n, failing when it stays the same
// for stall or when max has passed.
func waitProgress(t testing.TB, stall, max time.Duration, got func() int, n int) {
	t.Helper()
	start := time.Now()
	last, lastAt := got(), start
	for last < n {
		time.Sleep(10 * time.Millisecond)
		now := time.Now()
		if g := got(); g != last {
			last, lastAt = g, now
			continue
		}
		if now.Sub(lastAt) > stall || now.Sub(start) > max {
			t.Fatalf("the source got %d of %d events in %s; none for the last %s", last, n,
				now.Sub(start).Round(time.Second), now.Sub(lastAt).Round(time.Second))
		}
	}
}

func redelivery(t *testing.T, h Harness) {
	ch := Channel(t)
	col := NewCollector()
	col.Fail(3) // the bus refuses the first stores: the source must not ack
	StartSource(t, "src", h.Source(t, ch), col)
	tg := StartTarget(t, "tgt", h.Target(t, ch, h.Modes[0]))
	for i := 0; i < 5; i++ {
		Send(t, tg, Sample(fmt.Sprintf("redeliver-%d", i)))
	}
	Eventually(t, 60*time.Second, func() bool { return col.Distinct() == 5 }, "after failed stores the source got %d of 5 events", col.Distinct)
}

func reconnect(t *testing.T, h Harness) {
	ch := Channel(t)
	col := NewCollector()
	StartSource(t, "src", h.Source(t, ch), col)
	tg := StartTarget(t, "tgt", h.Target(t, ch, h.Modes[0]))
	Send(t, tg, Sample("before-restart"))
	Eventually(t, 30*time.Second, func() bool { return col.Distinct() == 1 }, "first event not received")
	h.RestartBroker(t)
	Send(t, tg, Sample("after-restart"))
	Eventually(t, 60*time.Second, func() bool { return col.Distinct() == 2 }, "no event after the broker restarted: reconnect failed")
}

func orderPerKey(t *testing.T, h Harness) {
	const perKey = 200
	ch := Channel(t)
	col := NewCollector()
	StartSource(t, "src", h.Source(t, ch), col)
	tg := StartTarget(t, "tgt", h.Target(t, ch, h.Modes[0]))
	keys := []string{"k1", "k2", "k3"}
	for i := 0; i < perKey; i++ {
		for _, k := range keys {
			e := ce.New()
			e.SetID(fmt.Sprintf("%s-%04d", k, i))
			e.SetSource("/order")
			e.SetType("t")
			e.SetExtension("partitionkey", k)
			Send(t, tg, &e)
		}
	}
	Eventually(t, 60*time.Second, func() bool { return col.Distinct() == perKey*len(keys) }, "got %d of %d", col.Distinct, perKey*len(keys))
	last := map[string]string{}
	for _, e := range col.Events() {
		k, _, _ := strings.Cut(e.ID(), "-")
		if e.ID() < last[k] {
			t.Fatalf("key %s: %s arrived after %s", k, e.ID(), last[k])
		}
		last[k] = e.ID()
	}
}
