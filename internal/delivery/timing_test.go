package delivery

import (
	"strings"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
	"github.com/eventbridge-dev/eventbridge/internal/bus/bustest"
	"github.com/eventbridge-dev/eventbridge/internal/eventkey"
)

func TestDue(t *testing.T) {
	ingested := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	at := func(d time.Duration) string { return ingested.Add(d).Format(time.RFC3339Nano) }
	for _, c := range []struct {
		name      string
		timing    Timing
		deliverAt any // nil: no extension
		want      time.Duration
		held      bool
	}{
		{name: "nothing", timing: Timing{MaxDelay: time.Hour}},
		{name: "holding off", timing: Timing{}, deliverAt: at(time.Minute)},
		{name: "delay", timing: Timing{Delay: 3 * time.Second, MaxDelay: time.Hour}, want: 3 * time.Second, held: true},
		{name: "deliverat", timing: Timing{MaxDelay: time.Hour}, deliverAt: at(10 * time.Minute), want: 10 * time.Minute, held: true},
		{name: "deliverat as a timestamp", timing: Timing{MaxDelay: time.Hour}, deliverAt: ingested.Add(time.Minute), want: time.Minute, held: true},
		{name: "the later of delay and deliverat", timing: Timing{Delay: 5 * time.Minute, MaxDelay: time.Hour}, deliverAt: at(time.Minute), want: 5 * time.Minute, held: true},
		{name: "deliverat after delay", timing: Timing{Delay: time.Minute, MaxDelay: time.Hour}, deliverAt: at(5 * time.Minute), want: 5 * time.Minute, held: true},
		{name: "capped by max_delay", timing: Timing{MaxDelay: time.Hour}, deliverAt: at(48 * time.Hour), want: time.Hour, held: true},
		{name: "in the past", timing: Timing{MaxDelay: time.Hour}, deliverAt: at(-time.Hour), want: -time.Hour, held: true},
		{name: "not a time", timing: Timing{MaxDelay: time.Hour}, deliverAt: "tomorrow"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := NewRoute(RouteConfig{Rule: "r", Target: "t", Timing: c.timing})
			e := bustest.Event("1", "x")
			if c.deliverAt != nil {
				e.SetExtension(ExtDeliverAt, c.deliverAt)
			}
			due, held := r.due(&Task{Event: e, Ingested: ingested})
			if held != c.held || held && !due.Equal(ingested.Add(c.want)) {
				t.Fatalf("due = %s, %v; want ingest%+v, %v", due, held, c.want, c.held)
			}
		})
	}
}

func TestCheckHorizon(t *testing.T) {
	if err := CheckHorizon(24*time.Hour, 0); err != nil {
		t.Fatalf("RETRY without max age: %v", err)
	}
	if err := CheckHorizon(time.Hour, 2*time.Hour); err != nil {
		t.Fatal(err)
	}
	err := CheckHorizon(24*time.Hour, time.Hour)
	if err == nil || !strings.Contains(err.Error(), "RETRY stream's max age 1h0m0s") {
		t.Fatalf("got %v", err)
	}
}

// Claim lets one event per key and window through, lets the same stored
// event through again (handed out again after a crash), and opens a new
// window once the old one has passed.
func TestDedupClaim(t *testing.T) {
	b := bustest.New(t)
	ctx := bustest.Context(t)
	bucket, err := b.RuleDedup(ctx, bus.RuleDedupOptions{MaxAge: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	key, err := eventkey.Compile("delivery")
	if err != nil {
		t.Fatal(err)
	}
	d := &Dedup{Key: key, Window: 10 * time.Second, Bucket: bucket}
	t0 := time.Now()
	ev := func(id string) *ce.Event { return bustest.Event(id, "x") }
	for i, c := range []struct {
		rule, id, key string
		at            time.Duration
		want          bool
	}{
		{"r", "a", "k1", 0, true},
		{"r", "b", "k1", time.Second, false},            // a new id, same key
		{"r", "a", "k1", 0, true},                       // the same stored event again (after a crash)
		{"r", "a", "k1", 2 * time.Second, false},        // the same (source, id) stored again later
		{"r", "c", "k2", 2 * time.Second, true},         // another key
		{"other", "b", "k1", 3 * time.Second, true},     // another rule
		{"r", "d", "k1", 9 * time.Second, false},        // still inside the window
		{"r", "e", "k1", 10 * time.Second, true},        // the window has passed
		{"r", "f", "k1", 15 * time.Second, false},       // inside the new one
		{"r", "b", "k1", 500 * time.Millisecond, false}, // older than the entry: inside its window
	} {
		got, err := d.Claim(ctx, c.rule, "t", ev(c.id), c.key, t0.Add(c.at))
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		if got != c.want {
			t.Errorf("%d: rule %s, id %s, key %s at +%s: got %v, want %v", i, c.rule, c.id, c.key, c.at, got, c.want)
		}
	}
}
