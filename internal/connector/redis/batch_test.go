package redis_test

import (
	"context"
	"fmt"
	"testing"

	ce "github.com/cloudevents/sdk-go/v2/event"
	goredis "github.com/redis/go-redis/v9"

	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
	"github.com/eventbridge-dev/eventbridge/pkg/connector/batch"
)

// testBatch sends 60 events at once through a target with batch set: one
// in six goes to a key that holds a string, which only that event's XADD
// fails (WRONGTYPE, for good); the others are all in their streams.
func testBatch(t *testing.T, url string) {
	ch := connectortest.Channel(t)
	o, _ := goredis.ParseURL(url)
	c := goredis.NewClient(o)
	defer c.Close()
	ctx := context.Background()
	wrong := ch + "-wrong"
	if err := c.Set(ctx, wrong, "a string", 0).Err(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Del(context.Background(), wrong, ch+"-ok") })
	tg := connectortest.StartTarget(t, "out", fmt.Sprintf(
		`{"type":"redis","url":%q,"stream":"%s-{subject}","batch":{"max_events":20,"linger":"50ms"}}`, url, ch))
	if n := tg.(batch.MinConcurrency).MinConcurrency(); n != 20 {
		t.Errorf("MinConcurrency %d", n)
	}
	var events []*ce.Event
	for i := range 60 {
		e := connectortest.Sample(fmt.Sprintf("b%d", i))
		e.SetSubject("ok")
		if i%6 == 0 {
			e.SetSubject("wrong")
		}
		events = append(events, e)
	}
	for id, err := range connectortest.SendConcurrently(tg, events) {
		var i int
		fmt.Sscanf(id, "b%d", &i)
		if i%6 == 0 {
			if !connector.IsPermanent(err) {
				t.Errorf("%s to a string key: %v, want a permanent error", id, err)
			}
		} else if err != nil {
			t.Errorf("%s: %v", id, err)
		}
	}
	n, err := c.XLen(ctx, ch+"-ok").Result()
	if err != nil || n != 50 {
		t.Errorf("stream has %d entries (%v), want 50", n, err)
	}
}

func TestBatch(t *testing.T) {
	t.Run("miniredis", func(t *testing.T) { testBatch(t, "redis://"+startMini(t).Addr()) })
	t.Run("redis", func(t *testing.T) { testBatch(t, redisURL(t)) })
}
