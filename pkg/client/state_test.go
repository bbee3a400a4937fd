package client_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/testkit"
	"github.com/eventbridge-dev/eventbridge/internal/testkit/bridgetest"
	"github.com/eventbridge-dev/eventbridge/pkg/client"
)

func TestState(t *testing.T) {
	c, url := start(t, `
sources: {in: {type: http, path: /events}}
`)
	ctx := ctxT(t)
	for i := range 3 {
		bridgetest.Send(t, url, "/events", "/dev/x", fmt.Sprintf("e%d", i), "com.example.t")
	}
	var l *client.StateList
	var err error
	testkit.Eventually(t, 60*time.Second, func() bool {
		l, err = c.State(ctx, &client.StateQuery{Source: "/dev/x"})
		return err == nil && len(l.Items) == 1 && l.Items[0].Event["id"] == "e2"
	}, "state of /dev/x")
	e := l.Items[0]
	if e.Key != "/dev/x" || e.Resource != "in" || e.Seq == 0 || e.Updated.IsZero() {
		t.Fatalf("entry %+v", e)
	}
	one, err := c.StateEntry(ctx, "/dev/x")
	if err != nil || one.Event["id"] != "e2" {
		t.Fatalf("StateEntry: %+v %v", one, err)
	}
	if _, err := c.StateEntry(ctx, "nope"); !client.IsNotFound(err) {
		t.Fatalf("StateEntry of a missing key: %v", err)
	}
	if _, err := c.State(ctx, &client.StateQuery{Key: "nope"}); !client.IsNotFound(err) {
		t.Fatalf("State with a missing key: %v", err)
	}
	if l, err := c.State(ctx, &client.StateQuery{Source: "/dev/none"}); err != nil || len(l.Items) != 0 {
		t.Fatalf("empty: %+v %v", l, err)
	}
}
