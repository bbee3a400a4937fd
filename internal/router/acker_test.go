package router

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
)

// fakeMsg counts acknowledgements; every other method is unused.
type fakeMsg struct {
	jetstream.Msg
	acks atomic.Int32
}

func (m *fakeMsg) Ack() error { m.acks.Add(1); return nil }

func TestAckerHoldsTheNewestSettledMessage(t *testing.T) {
	a := newAcker(time.Hour)
	m1, m2, m3 := &fakeMsg{}, &fakeMsg{}, &fakeMsg{}
	o1, o2, o3 := a.received(), a.received(), a.received()

	a.ack(bus.WrapMsg(m2), o2)
	if m2.acks.Load() != 0 {
		t.Fatal("the newest settled message was acknowledged at once")
	}
	// An older message settling is acknowledged at once; the held one stays.
	a.ack(bus.WrapMsg(m1), o1)
	if m1.acks.Load() != 1 || m2.acks.Load() != 0 {
		t.Fatalf("acks m1=%d m2=%d, want 1 and 0", m1.acks.Load(), m2.acks.Load())
	}
	// A newer one takes the hold and releases the previous.
	a.ack(bus.WrapMsg(m3), o3)
	if m2.acks.Load() != 1 || m3.acks.Load() != 0 {
		t.Fatalf("acks m2=%d m3=%d, want 1 and 0", m2.acks.Load(), m3.acks.Load())
	}
	a.drain()
	if m3.acks.Load() != 1 {
		t.Fatal("drain did not acknowledge the held message")
	}
	// Once draining, nothing is held.
	m4 := &fakeMsg{}
	a.ack(bus.WrapMsg(m4), a.received())
	if m4.acks.Load() != 1 {
		t.Fatal("a message settled while draining was held")
	}
	for i, m := range []*fakeMsg{m1, m2, m3, m4} {
		if n := m.acks.Load(); n != 1 {
			t.Errorf("m%d acknowledged %d times, want once", i+1, n)
		}
	}
}

func TestAckerReleasesAfterLinger(t *testing.T) {
	a := newAcker(20 * time.Millisecond)
	m := &fakeMsg{}
	a.ack(bus.WrapMsg(m), a.received())
	deadline := time.Now().Add(2 * time.Second)
	for m.acks.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the held message was never acknowledged when nothing else settled")
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	if n := m.acks.Load(); n != 1 {
		t.Fatalf("acknowledged %d times, want once", n)
	}
}
