package client_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/testkit"
	"github.com/eventbridge-dev/eventbridge/internal/testkit/bridgetest"
	"github.com/eventbridge-dev/eventbridge/pkg/client"
)

func TestDeadLetters(t *testing.T) {
	sink := testkit.NewSink(t)
	sink.SetStatus(func(int64) int { return http.StatusBadRequest })
	c, url := start(t, fmt.Sprintf(`
sources: {in: {type: http, path: /events}}
targets: {out: {type: http, url: %q}}
rules: {r: {targets: [out]}}
`, sink.URL))
	ctx := ctxT(t)
	for i := range 6 {
		bridgetest.Send(t, url, "/events", "/test", fmt.Sprintf("d%d", i), []string{"com.a", "com.b"}[i%2])
	}
	testkit.Eventually(t, 10*time.Second, func() bool {
		l, err := c.DeadLetters(ctx, "r", nil)
		return err == nil && len(l.Items) == 6
	}, "not dead-lettered")

	page, err := c.DeadLetters(ctx, "r", &client.DeadLetterQuery{Limit: 4, Target: "out", Reason: "permanent"})
	if err != nil || len(page.Items) != 4 || page.NextPageToken == "" {
		t.Fatalf("page: %v %+v", err, page)
	}
	first := page.Items[0]
	if first.Rule != "r" || first.Target != "out" || first.LastStatus != 400 || first.Attempts < 1 || first.Event["id"] == nil || first.Time.IsZero() {
		t.Errorf("letter %+v", first)
	}
	all, err := client.Collect(c.AllDeadLetters(ctx, "r", &client.DeadLetterQuery{Limit: 4}))
	if err != nil || len(all) != 6 {
		t.Fatalf("all: %v %d", err, len(all))
	}
	typed, err := client.Collect(c.AllDeadLetters(ctx, "r", &client.DeadLetterQuery{Type: "com.b", Source: "/test"}))
	if err != nil || len(typed) != 3 {
		t.Fatalf("by type: %v %d", err, len(typed))
	}
	if one, err := c.DeadLetter(ctx, "r", first.ID); err != nil || one.ID != first.ID {
		t.Fatalf("one: %v %+v", err, one)
	}
	if _, err := c.DeadLetter(ctx, "r", 999999); !client.IsNotFound(err) {
		t.Errorf("missing letter: %v", err)
	}
	if _, err := c.DeadLetters(ctx, "nope", nil); !client.IsNotFound(err) {
		t.Errorf("letters of a missing rule: %v", err)
	}

	// The target is fixed: redrive one, then the com.b ones, with progress.
	sink.SetStatus(nil)
	op, err := c.RedriveOne(ctx, "r", first.ID)
	if err != nil || op.Kind != client.OpRedrive || op.ID == "" {
		t.Fatalf("redrive one: %v %+v", err, op)
	}
	if op, err = c.Wait(ctx, op, &client.WaitOptions{Interval: 20 * time.Millisecond}); err != nil || op.Progress["done"] != 1 || op.Finished == nil {
		t.Fatalf("redrive one: %v %+v", err, op)
	}
	op, err = c.Redrive(ctx, "r", &client.DeadLetterFilter{Type: "com.b"})
	if err != nil {
		t.Fatal(err)
	}
	var seen []*client.Operation
	op, err = c.Wait(ctx, op, &client.WaitOptions{Interval: 20 * time.Millisecond, Progress: func(o *client.Operation) { seen = append(seen, o) }})
	wantB := int64(3) // the com.b letters, less the one redriven above if it was one
	if first.Event["type"] == "com.b" {
		wantB = 2
	}
	if err != nil || op.State != client.StateSucceeded || op.Progress["done"] != wantB || len(seen) == 0 || seen[len(seen)-1] != op {
		t.Fatalf("redrive: %v %+v (%d progress calls)", err, op, len(seen))
	}
	if got, err := c.GetRedrive(ctx, op.ID); err != nil || got.State != client.StateSucceeded {
		t.Errorf("get redrive: %v %+v", err, got)
	}
	if ops, err := c.Redrives(ctx); err != nil || len(ops) != 2 {
		t.Errorf("redrives: %v %d", err, len(ops))
	}
	if _, err := c.GetRedrive(ctx, "redrive-nope"); !client.IsNotFound(err) {
		t.Errorf("missing redrive: %v", err)
	}
	testkit.Eventually(t, 10*time.Second, func() bool { return int64(sink.Distinct()) == 1+wantB }, "redriven letters not delivered: %d", sink.Distinct())

	n, err := c.Purge(ctx, "r", &client.DeadLetterFilter{Type: "com.a"})
	if err != nil || n < 2 {
		t.Fatalf("purge: %v %d", err, n)
	}
	if _, err := c.Purge(ctx, "r", nil); err != nil {
		t.Fatal(err)
	}
	if l, err := c.DeadLetters(ctx, "r", nil); err != nil || len(l.Items) != 0 {
		t.Fatalf("after purge: %v %+v", err, l)
	}
}

func TestReplays(t *testing.T) {
	sink := testkit.NewSink(t)
	c, url := start(t, fmt.Sprintf(`
sources: {in: {type: http, path: /events}}
targets: {out: {type: http, url: %q}}
rules: {r: {targets: [out], filter: {filters: [{prefix: {type: com.keep}}]}}}
`, sink.URL))
	ctx := ctxT(t)
	from := time.Now().Add(-time.Second)
	for i := range 5 {
		bridgetest.Send(t, url, "/events", "/test", fmt.Sprintf("k%d", i), "com.keep")
		bridgetest.Send(t, url, "/events", "/test", fmt.Sprintf("x%d", i), "com.other")
	}
	testkit.Eventually(t, 10*time.Second, func() bool { return sink.Count() == 5 }, "live delivery")
	op, err := c.StartReplay(ctx, client.ReplayRequest{Rule: "r", From: from, Target: "out"})
	if err != nil || op.Kind != client.OpReplay || op.State != client.StateRunning && op.State != client.StateSucceeded {
		t.Fatalf("start: %v %+v", err, op)
	}
	calls := 0
	op, err = c.Wait(ctx, op, &client.WaitOptions{Interval: 20 * time.Millisecond, Progress: func(*client.Operation) { calls++ }})
	if err != nil || op.Progress["scanned"] < 10 || op.Progress["matched"] != 5 || op.Progress["delivered"] != 5 || calls == 0 {
		t.Fatalf("replay: %v %+v", err, op)
	}
	if op.Params["rule"] != "r" {
		t.Errorf("params %v", op.Params)
	}
	testkit.Eventually(t, 5*time.Second, func() bool { return sink.Count() == 10 }, "replayed events not delivered")
	if got, err := c.GetReplay(ctx, op.ID); err != nil || got.ID != op.ID {
		t.Errorf("get: %v %+v", err, got)
	}
	if ops, err := c.Replays(ctx); err != nil || len(ops) != 1 {
		t.Errorf("list: %v %v", err, ops)
	}
	if got, err := c.CancelReplay(ctx, op.ID); err != nil || got.State != client.StateSucceeded {
		t.Errorf("cancel a finished replay: %v %+v", err, got)
	}
	if _, err := c.CancelReplay(ctx, "replay-nope"); !client.IsNotFound(err) {
		t.Errorf("cancel a missing replay: %v", err)
	}
	_, err = c.StartReplay(ctx, client.ReplayRequest{Rule: "r"})
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Status != 400 || len(ce.Errors) != 1 || ce.Errors[0].Field != "from" {
		t.Errorf("replay without from: %#v", err)
	}
	if _, err := c.StartReplay(ctx, client.ReplayRequest{Rule: "nope", From: from}); !client.IsNotFound(err) {
		t.Errorf("replay of a missing rule: %v", err)
	}

	// Operation errors.
	failed := &client.Operation{ID: "x", Kind: client.OpReplay, State: client.StateFailed, Error: "boom"}
	if _, err := c.Wait(ctx, failed, nil); !errors.Is(err, client.ErrOperationFailed) || !strings.Contains(err.Error(), "boom") {
		t.Errorf("failed op: %v", err)
	}
	cancelled := &client.Operation{ID: "x", Kind: client.OpReplay, State: client.StateCancelled}
	if err := cancelled.Err(); !errors.Is(err, client.ErrOperationCancelled) {
		t.Errorf("cancelled op: %v", err)
	}
}
