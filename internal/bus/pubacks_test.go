package bus

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestPubAcksAnswers holds the ingest writer to what the store answers: a
// stored write, a duplicate of a Nats-Msg-Id inside the window, a write no
// stream takes, and a write the stream refuses.
func TestPubAcksAnswers(t *testing.T) {
	b := openTestBus(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	write := func(m *nats.Msg) (bool, error) {
		w, err := b.acks.publish(m)
		if err != nil {
			t.Fatal(err)
		}
		return b.waitAck(ctx, w, nil)
	}
	msg := func(subject, id string) *nats.Msg {
		m := nats.NewMsg(subject)
		m.Data = []byte(`{}`)
		if id != "" {
			m.Header.Set(jetstream.MsgIDHeader, id)
		}
		return m
	}
	if dup, err := write(msg(WorkSubject("web", "t"), "k1")); dup || err != nil {
		t.Fatalf("first write: dup %v, err %v", dup, err)
	}
	if dup, err := write(msg(WorkSubject("web", "t"), "k1")); !dup || err != nil {
		t.Fatalf("second write of k1: dup %v, err %v; want a duplicate", dup, err)
	}
	if _, err := write(msg("nostream.x", "")); !errors.Is(err, jetstream.ErrNoStreamResponse) {
		t.Fatalf("write to no stream: %v, want ErrNoStreamResponse", err)
	}
	m := msg(WorkSubject("web", "t"), "")
	m.Header.Set("Nats-Expected-Stream", "OTHER")
	_, err := write(m)
	var apiErr *jetstream.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode == 0 {
		t.Fatalf("write expecting another stream: %v, want an API error", err)
	}
	// Every answered waiter is free again: none is left waiting.
	b.acks.mu.Lock()
	left := len(b.acks.waiting)
	b.acks.mu.Unlock()
	if left != 0 {
		t.Fatalf("%d waiters left after every answer", left)
	}
}

// TestPubAcksFailOnClose: a write in flight when the connection closes
// fails instead of waiting for an answer that cannot come.
func TestPubAcksFailOnClose(t *testing.T) {
	b := openTestBus(t)
	w := &pubWait{id: 1 << 62, done: make(chan struct{}, 1)}
	b.acks.mu.Lock()
	b.acks.waiting[w.id] = w
	b.acks.mu.Unlock()
	b.Close()
	select {
	case <-w.done:
		if w.err == nil {
			t.Fatal("a write in flight at close succeeded")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("a write in flight at close still waits")
	}
}

func TestIsDuplicate(t *testing.T) {
	for in, want := range map[string]bool{
		`{"stream":"WORK","seq":3}`:                   false,
		`{"stream":"WORK","seq":3,"duplicate": true}`: true,
		`{"stream":"WORK","seq":3,"duplicate":true}`:  true,
		`{"stream":"WORK","seq":3,"duplicate":false}`: false,
		`{"stream":"WORK","domain":"d","seq":3}`:      false,
	} {
		if got := isDuplicate([]byte(in)); got != want {
			t.Errorf("isDuplicate(%s) = %v, want %v", in, got, want)
		}
	}
}
