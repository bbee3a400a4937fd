package opsvc

import (
	"errors"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/bus/bustest"
	"github.com/eventbridge-dev/eventbridge/internal/deadletter"
	"github.com/eventbridge-dev/eventbridge/internal/delivery"
	"github.com/eventbridge-dev/eventbridge/internal/operations"
	"github.com/eventbridge-dev/eventbridge/internal/resource"
)

// noRules runs no rule.
type noRules struct{}

func (noRules) Rule(string) (*resource.Rule, []*delivery.Route, bool) { return nil, nil, false }

func waitDone(t *testing.T, op *operations.Op) operations.View {
	t.Helper()
	select {
	case <-op.Done():
	case <-time.After(30 * time.Second):
		t.Fatalf("operation %s still runs: %+v", op.ID(), op.View())
	}
	return op.View()
}

// A replay of a rule that does not run here is refused with ErrConflict
// before any operation starts.
func TestStartReplayRefusesARuleThatDoesNotRun(t *testing.T) {
	b := bustest.New(t)
	s := New(Config{Archive: b.Archive(), Rules: noRules{}})
	_, err := s.StartReplay("r", "", time.Now().Add(-time.Hour), time.Now())
	if !errors.Is(err, operations.ErrConflict) || err.Error() != `rule "r" is not running here; see its status` {
		t.Fatalf("StartReplay: %v, want ErrConflict naming the rule", err)
	}
	if n := len(s.List(KindReplay)); n != 0 {
		t.Errorf("%d replays listed after a refusal", n)
	}
	if _, err := New(Config{}).StartReplay("r", "", time.Now().Add(-time.Hour), time.Now()); !errors.Is(err, operations.ErrConflict) {
		t.Errorf("StartReplay with no archive: %v, want ErrConflict", err)
	}
	if _, err := New(Config{}).StartRedrive("r", deadletter.Filter{}); !errors.Is(err, operations.ErrConflict) {
		t.Errorf("StartRedrive with no DLQ: %v, want ErrConflict", err)
	}
}

// A redrive runs on the manager it was given, with its rule and filter as
// parameters and its counters from the start.
func TestStartRedriveRunsOnTheManager(t *testing.T) {
	b := bustest.New(t)
	m := operations.NewManager()
	s := New(Config{Manager: m, DLQ: deadletter.New(b.DeadLetters())})
	op, err := s.StartRedrive("r", deadletter.Filter{Target: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := m.Get(op.ID()); !ok || got != op {
		t.Fatalf("the manager does not know %s", op.ID())
	}
	v := waitDone(t, op)
	if v.Kind != KindRedrive || v.State != operations.Succeeded {
		t.Fatalf("redrive of an empty DLQ: %+v, want a succeeded redrive", v)
	}
	for _, c := range RedriveCounters {
		if _, ok := v.Progress[c]; !ok {
			t.Errorf("counter %s missing from %v", c, v.Progress)
		}
	}
	p, _ := v.Params.(map[string]any)
	if p["rule"] != "r" || p["filter"].(deadletter.Filter).Target != "t" {
		t.Errorf("params %#v, want the rule and the filter", v.Params)
	}
}
