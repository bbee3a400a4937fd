package server_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
	"github.com/eventbridge-dev/eventbridge/internal/server"
	"github.com/eventbridge-dev/eventbridge/internal/state"
	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

// TestIntegrationExternalBus runs the bridge on the machine's NATS server
// (EVENTBRIDGE_NATS_URL, default nats://127.0.0.1:4222) instead of the
// embedded one. Without EVENTBRIDGE_INTEGRATION=1 a missing server skips
// the test; with it, the test fails.
func TestIntegrationExternalBus(t *testing.T) {
	url := os.Getenv("EVENTBRIDGE_NATS_URL")
	if url == "" {
		url = "nats://127.0.0.1:4222"
	}
	nc, err := nats.Connect(url, nats.Timeout(2*time.Second))
	if err != nil {
		if os.Getenv("EVENTBRIDGE_INTEGRATION") == "1" {
			t.Fatalf("NATS at %s: %v", url, err)
		}
		t.Skipf("no NATS at %s: %v", url, err)
	}
	t.Cleanup(nc.Close) // runs after the clean-up below
	cleanStreams(t, nc)
	t.Cleanup(func() { cleanStreams(t, nc) })
	runOnExternalBus(t, url)
}

// TestExternalBusThrowawayServer does the same against a nats-server
// process of its own, when the binary is installed.
func TestExternalBusThrowawayServer(t *testing.T) {
	path, err := exec.LookPath("nats-server")
	if err != nil {
		if os.Getenv("EVENTBRIDGE_INTEGRATION") == "1" {
			t.Fatal("nats-server not on PATH")
		}
		t.Skip("nats-server not on PATH")
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().(*net.TCPAddr)
	ln.Close()
	cmd := exec.Command(path, "-a", "127.0.0.1", "-p", fmt.Sprint(addr.Port), "-js", "-sd", t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	url := fmt.Sprintf("nats://127.0.0.1:%d", addr.Port)
	testkit.Eventually(t, 10*time.Second, func() bool {
		nc, err := nats.Connect(url)
		if err == nil {
			nc.Close()
		}
		return err == nil
	}, "nats-server did not start")
	runOnExternalBus(t, url)
}

func runOnExternalBus(t *testing.T, url string) {
	sink := testkit.NewSink(t)
	cfg := yamlf(`
bus: {url: %q}
sources: {in: {type: http, path: /events}}
targets: {out: {type: http, url: %q}}
rules: {all: {targets: [out]}}
`, url, sink.URL)
	b := startBridge(t, cfg)
	for i := 0; i < 50; i++ {
		mustSend(t, b, fmt.Sprintf("x%d", i))
	}
	mustSend(t, b, "x0") // a duplicate
	testkit.Eventually(t, 10*time.Second, func() bool { return sink.Distinct() == 50 }, "sink got %d of 50", sink.Distinct())
	if got := streamMsgs(t, b, bus.StreamEvents); got != 50 {
		t.Fatalf("EVENTS holds %d, want 50", got)
	}

	// A second bridge on the same cluster does not know the keys the first
	// stored; the server's dedup on WORK does, and the archive copy goes.
	b2 := startBridge(t, cfg)
	mustSend(t, b2, "x1")
	mustSend(t, b2, "x50")
	testkit.Eventually(t, 10*time.Second, func() bool { return sink.Distinct() == 51 }, "sink got %d of 51", sink.Distinct())
	testkit.Never(t, 300*time.Millisecond, func() bool { return sink.Count() > 51 }, "the duplicate sent to the second bridge was delivered")
	if got := streamMsgs(t, b2, bus.StreamEvents); got != 51 {
		t.Fatalf("EVENTS holds %d, want 51", got)
	}
	// Both bridges feed one state: the last event is x50, on either.
	for _, br := range []*server.Bridge{b, b2} {
		testkit.Eventually(t, 30*time.Second, func() bool {
			e, err := br.State().Get(context.Background(), "/test", "")
			return err == nil && e.Event.ID() == "x50"
		}, "state of /test is not the last event")
	}
}

func cleanStreams(t *testing.T, nc *nats.Conn) {
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, s := range []string{bus.StreamEvents, bus.StreamWork, bus.StreamRetry, bus.StreamDLQ, "KV_" + state.Bucket} {
		if err := js.DeleteStream(ctx, s); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
			t.Fatalf("delete stream %s: %v", s, err)
		}
	}
}
