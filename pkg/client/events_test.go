package client_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/testkit"
	"github.com/eventbridge-dev/eventbridge/internal/testkit/bridgetest"
	"github.com/eventbridge-dev/eventbridge/pkg/client"
)

func TestEventsAndTypes(t *testing.T) {
	c, url := start(t, `
sources: {in: {type: http, path: /events}, other: {type: http, path: /other}}
targets: {t: {type: log, file: /dev/null}}
rules:
  r: {targets: [t], filter: {filters: [{prefix: {type: com.a}}]}, transform: {jq: '.type = "com.out"'}}
`)
	ctx := ctxT(t)
	start := time.Now().Add(-time.Second)
	for i := range 6 {
		bridgetest.Send(t, url, "/events", "/test", fmt.Sprintf("a%d", i), []string{"com.a", "com.b"}[i%2])
	}
	bridgetest.Send(t, url, "/other", "/elsewhere", "o1", "com.a")

	l, err := c.Events(ctx, &client.EventQuery{Type: "com.a"})
	if err != nil || len(l.Items) != 4 || l.Items[0].Seq == 0 || l.Items[0].Stored.IsZero() || l.Items[0].Event["type"] != "com.a" {
		t.Fatalf("by type: %v %+v", err, l)
	}
	if l, err := c.Events(ctx, &client.EventQuery{SourceName: "other", Source: "/elsewhere"}); err != nil || len(l.Items) != 1 || l.Items[0].SourceName != "other" {
		t.Fatalf("by source name: %v %+v", err, l)
	}
	page, err := c.Events(ctx, &client.EventQuery{Limit: 3, From: start, To: time.Now().Add(time.Minute)})
	if err != nil || len(page.Items) != 3 || page.NextPageToken == "" {
		t.Fatalf("page: %v %+v", err, page)
	}
	all, err := client.Collect(c.AllEvents(ctx, &client.EventQuery{Limit: 2}))
	if err != nil || len(all) != 7 {
		t.Fatalf("all: %v %d", err, len(all))
	}
	desc, err := client.Collect(c.AllEvents(ctx, &client.EventQuery{Limit: 2, Order: "desc"}))
	if err != nil || len(desc) != 7 || desc[0].Event["id"] != "o1" || desc[6].Event["id"] != "a0" {
		t.Fatalf("all, newest first: %v %d", err, len(desc))
	}

	testkit.Eventually(t, 5*time.Second, func() bool {
		l, err := c.EventTypes(ctx)
		return err == nil && len(l.Items) == 3
	}, "event types not discovered")
	types, _ := c.EventTypes(ctx)
	if et := types.Items[0]; et.Count == 0 || et.Schema["type"] != "object" || et.FirstSeen.IsZero() || et.Type == "" {
		t.Errorf("event type %+v", et)
	}

	// Rule tests, by name and by spec.
	ev := map[string]any{"specversion": "1.0", "id": "1", "source": "/s", "type": "com.a"}
	res, err := c.TestRule(ctx, "r", []any{ev, []byte(`{"specversion":"1.0","id":"2","source":"/s","type":"com.b"}`)})
	if err != nil || len(res) != 2 || !res[0].Matched || res[0].Output["type"] != "com.out" || res[1].Matched {
		t.Fatalf("test by name: %v %+v", err, res)
	}
	res, err = c.TestRule(ctx, map[string]any{"filter": map[string]any{"sql": "type = 'com.b'"}}, []any{ev})
	if err != nil || len(res) != 1 || res[0].Matched {
		t.Fatalf("test by spec: %v %+v", err, res)
	}
	if _, err := c.TestRule(ctx, "nope", []any{ev}); !client.IsNotFound(err) {
		t.Errorf("test a missing rule: %v", err)
	}
	if _, err := c.TestRule(ctx, map[string]any{"filter": map[string]any{"sql": "type = "}}, nil); !client.IsInvalid(err) {
		t.Errorf("test an invalid rule: %v", err)
	}
}

func TestStream(t *testing.T) {
	c, url := start(t, `
sources: {in: {type: http, path: /events}}
targets: {t: {type: log, file: /dev/null}}
rules: {r: {targets: [t]}}
`)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	connected := make(chan struct{})
	var mu sync.Mutex
	var got []map[string]any
	errc := make(chan error, 1)
	stop := errors.New("enough")
	go func() {
		errc <- c.Stream(ctx, &client.StreamQuery{Type: "com.live", SourceName: "in", Connected: func() { close(connected) }}, func(ev map[string]any) error {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, ev)
			if len(got) == 2 {
				return stop
			}
			return nil
		})
	}()
	select {
	case <-connected:
	case err := <-errc:
		t.Fatalf("stream: %v", err)
	}
	bridgetest.Send(t, url, "/events", "/test", "not-this", "com.other")
	for i := 0; ; i++ {
		bridgetest.Send(t, url, "/events", "/test", fmt.Sprintf("live-%d", i), "com.live")
		select {
		case err := <-errc:
			if !errors.Is(err, stop) {
				t.Fatalf("stream ended with %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			for _, ev := range got {
				if ev["type"] != "com.live" {
					t.Errorf("streamed %v", ev)
				}
			}
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func TestStreamEndsWithContext(t *testing.T) {
	c, _ := start(t, `targets: {t: {type: log, file: /dev/null}}`)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		errc <- c.Stream(ctx, &client.StreamQuery{Connected: cancel}, func(map[string]any) error { return nil })
	}()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("stream: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("stream did not end with its context")
	}
}
