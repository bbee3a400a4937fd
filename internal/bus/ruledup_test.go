package bus_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
	"github.com/eventbridge-dev/eventbridge/internal/bus/bustest"
	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

// The ruledup bucket on the embedded server and, when the binary is on
// PATH, on a nats-server of its own (the external-bus tests use 2.9.10,
// which has no per-message TTL): entries expire with the bucket's max age,
// and beyond MaxKeys the oldest go.
func TestRuleDedupBucket(t *testing.T) {
	t.Run("embedded", func(t *testing.T) { testRuleDedupBucket(t, bustest.New(t)) })
	t.Run("nats-server", func(t *testing.T) {
		path, err := exec.LookPath("nats-server")
		if err != nil {
			t.Skip("nats-server not on PATH")
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		cmd := exec.Command(path, "-a", "127.0.0.1", "-p", fmt.Sprint(port), "-js", "-sd", t.TempDir())
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		cfg := bus.Config{URL: fmt.Sprintf("nats://127.0.0.1:%d", port)}
		cfg.Defaults()
		var b *bus.Bus
		testkit.Eventually(t, 10*time.Second, func() bool {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			b, err = bus.Open(ctx, cfg, nil)
			return err == nil
		}, "cannot open the bus on nats-server: %v", err)
		t.Cleanup(b.Close)
		testRuleDedupBucket(t, b)
	})
}

func testRuleDedupBucket(t *testing.T, b *bus.Bus) {
	ctx := bustest.Context(t)
	d, err := b.RuleDedup(ctx, bus.RuleDedupOptions{MaxAge: time.Hour, MaxKeys: 3})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Create(ctx, "r.t.k1", []byte("a")); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Create(ctx, "r.t.k1", []byte("b")); !errors.Is(err, bus.ErrKeyExists) {
		t.Fatalf("second create: %v, want ErrKeyExists", err)
	}
	e, err := d.Get(ctx, "r.t.k1")
	if err != nil || string(e.Value) != "a" {
		t.Fatalf("get: %q, %v", e.Value, err)
	}
	if _, err := d.Update(ctx, "r.t.k1", []byte("c"), e.Revision); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Update(ctx, "r.t.k1", []byte("d"), e.Revision); !errors.Is(err, bus.ErrRevisionMismatch) {
		t.Fatalf("stale update: %v, want ErrRevisionMismatch", err)
	}
	// Full: the oldest key goes, writes go on.
	for _, k := range []string{"r.t.k2", "r.t.k3", "r.t.k4"} {
		if _, err := d.Create(ctx, k, []byte("x")); err != nil {
			t.Fatalf("create %s in a full bucket: %v", k, err)
		}
	}
	if _, err := d.Get(ctx, "r.t.k1"); !errors.Is(err, bus.ErrKeyNotFound) {
		t.Fatalf("the oldest key is still there beyond MaxKeys: %v", err)
	}
	// A shorter max age (the longest window shrank) expires the entries.
	d, err = b.RuleDedup(ctx, bus.RuleDedupOptions{MaxAge: time.Second, MaxKeys: 3})
	if err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 15*time.Second, func() bool {
		_, err := d.Get(ctx, "r.t.k4")
		return errors.Is(err, bus.ErrKeyNotFound)
	}, "an entry outlived the bucket's max age")
}
