package connector

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/telemetry"
)

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestReconnector: failed dials retry with backoff and leave the state
// Starting with the dial error; a session that becomes ready is Running
// and connected; a lost session counts one reset and dials again; Stop
// ends the loop and later readiness no longer changes the state.
func TestReconnector(t *testing.T) {
	var tr component.Tracker
	m := telemetry.NewMetrics()
	var dials, serves atomic.Int32
	lose := make(chan struct{})
	r := &Reconnector[int]{
		Name: "r", Type: "amqp", Tracker: &tr, Metrics: m, ReconnectMax: 5 * time.Millisecond,
		Dial: func(context.Context) (int, error) {
			if n := dials.Add(1); n <= 2 {
				return 0, errors.New("refused")
			}
			return int(dials.Load()), nil
		},
		Serve: func(_ context.Context, _ int, ready func(), stop <-chan struct{}) error {
			serves.Add(1)
			ready()
			select {
			case <-lose:
				return errors.New("lost")
			case <-stop:
				return nil
			}
		},
		Close: func(int) {},
	}
	connected := func() float64 { return testutil.ToFloat64(m.ConnConnected.WithLabelValues("r", "amqp")) }
	resets := func() float64 { return testutil.ToFloat64(m.ConnResets.WithLabelValues("r", "amqp")) }
	_ = r.Start(context.Background())
	waitFor(t, "the first session", func() bool { return tr.Health().State == component.Running })
	h := tr.Health()
	if dials.Load() != 3 || h.LastError != "refused" || h.Detail["connected"] != true || connected() != 1 {
		t.Fatalf("dials %d, health %+v, connected %v", dials.Load(), h, connected())
	}
	lose <- struct{}{}
	waitFor(t, "the second session", func() bool { return serves.Load() == 2 && tr.Health().State == component.Running })
	if resets() != 1 || dials.Load() != 4 {
		t.Fatalf("resets %v, dials %d", resets(), dials.Load())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r.Stop(ctx)
	if h := tr.Health(); h.State != component.Terminated || h.Detail["connected"] != false || connected() != 0 {
		t.Fatalf("after Stop: %+v, connected %v", h, connected())
	}
	r.Stop(ctx) // twice is fine
}
