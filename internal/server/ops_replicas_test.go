package server_test

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

// Two bridges on one bus (b connects to the bus a embeds): a replay
// started through a's API is read and cancelled through b's, and both
// report the same operation.
func TestReplayReadAndCancelledFromAnotherReplica(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	busAddr := ln.Addr().String()
	ln.Close()
	sink := testkit.NewSink(t)
	common := fmt.Sprintf(`
sources: {in: {type: http, path: /events}}
targets: {out: {type: http, url: %q}}
rules: {r: {targets: [out]}}
`, sink.URL)
	a := startBridge(t, fmt.Sprintf("instance: {name: a}\nbus: {listen: %q}\n", busAddr)+common)
	b := startBridge(t, fmt.Sprintf("instance: {name: b}\nbus: {url: %q}\n", "nats://"+busAddr)+common)
	ca, cb := api(t, a), api(t, b)

	from := time.Now().Add(-time.Second)
	for i := range 20 {
		mustSendType(t, a, fmt.Sprintf("e%d", i), "com.example")
	}
	testkit.Eventually(t, 10*time.Second, func() bool { return sink.Count() == 20 }, "live delivery")
	sink.Block() // the replay's deliveries wait
	t.Cleanup(sink.Open)
	code, hdr, m := ca.do("POST", "/v1/replays", fmt.Sprintf(`{"rule":"r","from":%q}`, from.UTC().Format(time.RFC3339Nano)))
	if code != 202 {
		t.Fatalf("replay on a: %d %v", code, m)
	}
	loc := hdr.Get("Location")
	testkit.Eventually(t, 10*time.Second, func() bool {
		code, _, op := cb.do("GET", loc, "")
		p, _ := op["progress"].(map[string]any)
		return code == 200 && op["owner"] == "a" && op["state"] == "running" && p["scanned"] == float64(20)
	}, "b reads a's replay with its progress")
	if code, _, l := cb.do("GET", "/v1/replays", ""); code != 200 || len(l["items"].([]any)) != 1 {
		t.Errorf("b lists %d %v, want a's replay", code, l)
	}

	type answer struct {
		code int
		op   map[string]any
	}
	cancelled := make(chan answer, 1)
	go func() {
		code, _, op := cb.do("DELETE", loc, "")
		cancelled <- answer{code, op}
	}()
	testkit.Eventually(t, 10*time.Second, func() bool {
		_, _, op := ca.do("GET", loc, "")
		return op["cancel_requested"] == true || op["state"] == "cancelled"
	}, "a sees the cancel asked on b")
	sink.Open() // a's deliveries in flight settle; a stops the replay
	var got answer
	select {
	case got = <-cancelled:
	case <-time.After(30 * time.Second):
		t.Fatal("DELETE on b did not answer")
	}
	if got.code != 200 || got.op["state"] != "cancelled" || got.op["owner"] != "a" {
		t.Fatalf("DELETE on b: %d %v, want 200 with a cancelled replay owned by a", got.code, got.op)
	}
	if _, _, op := ca.do("GET", loc, ""); op["state"] != "cancelled" {
		t.Errorf("a reads %v", op)
	}
}
