package bus

import (
	"context"
	"testing"
	"time"
)

// The floor never passes an EVENTS sequence that a Publish call in flight
// may still hand over, however the calls end: seq 10's call ends after
// seq 11's.
func TestHandoverFloorWaitsForCallsInFlight(t *testing.T) {
	var h handover
	if f := h.floor(); f != 1 {
		t.Fatalf("floor of nothing %d, want 1", f)
	}
	a := h.begin() // will store seq 10
	b := h.begin() // will store seq 11
	h.end(b, 11)   // 11 handed first
	if f := h.floor(); f > 10 {
		t.Fatalf("floor %d passes seq 10, whose call is in flight", f)
	}
	c := h.begin() // began after 11 was known: stores above it
	h.end(a, 10)
	if f := h.floor(); f != 12 {
		t.Fatalf("floor %d, want 12 (call c stores above 11)", f)
	}
	if !h.busyBefore(c) || h.busyBefore(b) {
		t.Fatalf("busyBefore: calls in flight %v", h.calls)
	}
	h.end(c, 0) // failed: stored nothing it knows of
	if f := h.floor(); f != 12 {
		t.Fatalf("floor %d, want 12", f)
	}
}

// WaitPublishing returns once the calls that began before it are over,
// not waiting for later ones.
func TestWaitPublishingWaitsForEarlierCalls(t *testing.T) {
	b := &Bus{}
	early := b.local.pubs.begin()
	done := make(chan error, 1)
	go func() { done <- b.WaitPublishing(context.Background()) }()
	select {
	case err := <-done:
		t.Fatalf("returned (%v) while an earlier call is in flight", err)
	case <-time.After(50 * time.Millisecond):
	}
	late := b.local.pubs.begin()
	b.local.pubs.end(early, 3)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("still waiting once the earlier call ended")
	}
	b.local.pubs.end(late, 4)
}
