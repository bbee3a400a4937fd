package circuit

import (
	"errors"
	"testing"
	"time"
)

type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time { return c.now }

func TestBreakerOpensHalfOpensAndCloses(t *testing.T) {
	clk := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	b := New(3, 30*time.Second, clk.Now)
	var changes []string
	b.OnChange = func(from, to State) { changes = append(changes, from.String()+">"+to.String()) }
	call := func(failed bool) error {
		t.Helper()
		if _, err := b.Allow(); err != nil {
			return err
		}
		b.Done(failed)
		return nil
	}
	// Failures not in a row do not open it.
	for _, f := range []bool{true, true, false, true, true} {
		if err := call(f); err != nil {
			t.Fatalf("refused while closed: %v", err)
		}
	}
	if b.State() != Closed {
		t.Fatal("opened without 3 failures in a row")
	}
	_ = call(true) // the third in a row
	if b.State() != Open {
		t.Fatalf("state %s after 3 failures in a row", b.State())
	}
	left, err := b.Allow()
	if !errors.Is(err, ErrOpen) || left != 30*time.Second {
		t.Fatalf("open: %s, %v", left, err)
	}
	clk.now = clk.now.Add(29 * time.Second)
	if left, err := b.Allow(); !errors.Is(err, ErrOpen) || left != time.Second {
		t.Fatalf("open after 29s: %s, %v", left, err)
	}
	// After open_for: one trial; others are refused while it runs.
	clk.now = clk.now.Add(time.Second)
	if _, err := b.Allow(); err != nil {
		t.Fatalf("no trial after open_for: %v", err)
	}
	if b.State() != HalfOpen {
		t.Fatalf("state %s", b.State())
	}
	if _, err := b.Allow(); !errors.Is(err, ErrOpen) {
		t.Fatal("a second call passed while the trial runs")
	}
	b.Done(true) // the trial fails: open again, for open_for
	if b.State() != Open {
		t.Fatalf("state %s after a failed trial", b.State())
	}
	clk.now = clk.now.Add(30 * time.Second)
	if _, err := b.Allow(); err != nil {
		t.Fatal(err)
	}
	b.Abandon() // the caller gave up: another trial may go
	if _, err := b.Allow(); err != nil {
		t.Fatalf("no trial after an abandoned one: %v", err)
	}
	b.Done(false)
	if b.State() != Closed {
		t.Fatalf("state %s after a good trial", b.State())
	}
	// Closed again: the count starts afresh.
	_ = call(true)
	_ = call(true)
	if b.State() != Closed {
		t.Fatal("the failure count survived closing")
	}
	want := []string{"closed>open", "open>half-open", "half-open>open", "open>half-open", "half-open>closed"}
	if len(changes) != len(want) {
		t.Fatalf("changes = %v, want %v", changes, want)
	}
	for i := range want {
		if changes[i] != want[i] {
			t.Errorf("change %d = %s, want %s", i, changes[i], want[i])
		}
	}
}
