package bus

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

func TestListen(t *testing.T) {
	const addr = "127.0.0.1:4222"
	testkit.NeedTCP(t, addr, "NATS")
	url := "nats://" + addr
	subject := fmt.Sprintf("eb-listen-test.%d", time.Now().UnixNano())
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan string, 16)
	done := make(chan error, 1)
	go func() {
		done <- Listen(ctx, url, "eb-listen-test", []string{subject + ".>"}, func(b []byte) { got <- string(b) })
	}()

	pub, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	// The subscription starts asynchronously: publish until one arrives.
	deadline := time.Now().Add(30 * time.Second)
	for seen := false; !seen; {
		if time.Now().After(deadline) {
			t.Fatal("no message received within 30s")
		}
		_ = pub.Publish(subject+".x", []byte("hello"))
		_ = pub.Publish(subject, []byte("not matched"))
		_ = pub.Flush()
		select {
		case m := <-got:
			if m != "hello" {
				t.Fatalf("got %q", m)
			}
			seen = true
		case <-time.After(100 * time.Millisecond):
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != context.Canceled {
			t.Fatalf("Listen returned %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Listen did not return after cancel")
	}
}
