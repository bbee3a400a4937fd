package opsvc

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/bus/bustest"
	"github.com/eventbridge-dev/eventbridge/internal/deadletter"
	"github.com/eventbridge-dev/eventbridge/internal/delivery"
	"github.com/eventbridge-dev/eventbridge/internal/operations"
	"github.com/eventbridge-dev/eventbridge/internal/resource"
	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

// noRules runs no rule.
type noRules struct{}

func (noRules) Rule(string) (*resource.Rule, []*delivery.Route, bool) { return nil, nil, false }

// waitDone waits for the operation id to finish, as m reports it.
func waitDone(t *testing.T, m *operations.Manager, id string) operations.View {
	t.Helper()
	var v operations.View
	testkit.Eventually(t, 30*time.Second, func() bool {
		var err error
		v, err = m.Get(context.Background(), id)
		return err == nil && v.State != operations.Running
	}, "operation %s still runs", id)
	return v
}

// A replay of a rule that does not run here is refused with ErrConflict
// before any operation starts.
func TestStartReplayRefusesARuleThatDoesNotRun(t *testing.T) {
	b := bustest.New(t)
	s := New(Config{Archive: b.Archive(), Rules: noRules{}})
	_, err := s.StartReplay(context.Background(), "r", "", time.Now().Add(-time.Hour), time.Now())
	if !errors.Is(err, operations.ErrConflict) || err.Error() != `rule "r" is not running here; see its status` {
		t.Fatalf("StartReplay: %v, want ErrConflict naming the rule", err)
	}
	if l, _ := s.List(context.Background(), KindReplay); len(l) != 0 {
		n := len(l)
		t.Errorf("%d replays listed after a refusal", n)
	}
	if _, err := New(Config{}).StartReplay(context.Background(), "r", "", time.Now().Add(-time.Hour), time.Now()); !errors.Is(err, operations.ErrConflict) {
		t.Errorf("StartReplay with no archive: %v, want ErrConflict", err)
	}
	if _, err := New(Config{}).StartRedrive(context.Background(), "r", deadletter.Filter{}); !errors.Is(err, operations.ErrConflict) {
		t.Errorf("StartRedrive with no DLQ: %v, want ErrConflict", err)
	}
}

// A redrive runs on the manager it was given, with its rule and filter as
// parameters and its counters from the start.
func TestStartRedriveRunsOnTheManager(t *testing.T) {
	b := bustest.New(t)
	m := operations.NewManager()
	s := New(Config{Manager: m, DLQ: deadletter.New(b.DeadLetters())})
	op, err := s.StartRedrive(context.Background(), "r", deadletter.Filter{Target: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := m.Get(context.Background(), op.ID); err != nil || got.ID != op.ID {
		t.Fatalf("the manager does not know %s: %v", op.ID, err)
	}
	v := waitDone(t, m, op.ID)
	if v.Kind != KindRedrive || v.State != operations.Succeeded {
		t.Fatalf("redrive of an empty DLQ: %+v, want a succeeded redrive", v)
	}
	for _, c := range RedriveCounters {
		if _, ok := v.Progress[c]; !ok {
			t.Errorf("counter %s missing from %v", c, v.Progress)
		}
	}
	var p RedriveParams
	raw, _ := v.Params.(json.RawMessage)
	if err := json.Unmarshal(raw, &p); err != nil || p.Rule != "r" || p.Filter.Target != "t" {
		t.Errorf("params %s (%v), want the rule and the filter", raw, err)
	}
}
