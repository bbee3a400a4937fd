package component

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

type flaky struct {
	Tracker
	failStarts atomic.Int32 // starts that fail before one succeeds
	starts     atomic.Int32
}

func (f *flaky) Start(context.Context) error {
	f.starts.Add(1)
	if f.failStarts.Add(-1) >= 0 {
		f.Set(Failed, errors.New("boom"))
		return errors.New("boom")
	}
	f.Set(Running, nil)
	return nil
}

func (f *flaky) Stop(context.Context) error { f.Set(Terminated, nil); return nil }

func TestSuperviseRestartsAfterFailedStart(t *testing.T) {
	defer goleak.VerifyNone(t)
	f := &flaky{}
	f.failStarts.Store(2)
	s := Supervise("x", f, nil)
	s.MinBackoff, s.MaxBackoff = 10*time.Millisecond, 20*time.Millisecond
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if h := s.Health(); h.State != Failed || h.LastError != "boom" {
		t.Fatalf("health after a failed start: %+v", h)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !s.Running() {
		if time.Now().After(deadline) {
			t.Fatal("never restarted")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if h := s.Health(); h.State != Running || h.Detail["restarts"] != 2 {
		t.Fatalf("health after restarts: %+v", h)
	}
	// A component that reports Failed later is restarted too.
	f.Set(Failed, errors.New("lost connection"))
	deadline = time.Now().Add(5 * time.Second)
	for f.starts.Load() < 4 {
		if time.Now().After(deadline) {
			t.Fatal("failed component not restarted")
		}
		time.Sleep(5 * time.Millisecond)
	}
	_ = s.Stop(context.Background())
}
