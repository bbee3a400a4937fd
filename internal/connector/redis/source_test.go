package redis_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/prometheus/client_golang/prometheus/testutil"
	goredis "github.com/redis/go-redis/v9"

	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
)

func client(t *testing.T, addr string) *goredis.Client {
	c := goredis.NewClient(&goredis.Options{Addr: addr})
	t.Cleanup(func() { c.Close() })
	return c
}

// Entries another consumer read but never acknowledged (it died) are
// claimed after claim_idle and stored.
func TestClaimsEntriesOfADeadConsumer(t *testing.T) {
	m := startMini(t)
	c := client(t, m.Addr())
	ctx := context.Background()
	stream := connectortest.Channel(t)
	if err := c.XGroupCreateMkStream(ctx, stream, "g", "0").Err(); err != nil {
		t.Fatal(err)
	}
	c.XAdd(ctx, &goredis.XAddArgs{Stream: stream, Values: []any{"specversion", "1.0", "id", "orphan", "source", "/s", "type", "t"}})
	if err := c.XReadGroup(ctx, &goredis.XReadGroupArgs{Group: "g", Consumer: "dead", Streams: []string{stream, ">"}}).Err(); err != nil {
		t.Fatal(err)
	}
	col := connectortest.NewCollector()
	connectortest.StartSource(t, "src", fmt.Sprintf(`{"type":"redis","url":"redis://%s","stream":%q,"group":"g","consumer":"alive","claim_idle":"1s"}`, m.Addr(), stream), col)
	connectortest.Eventually(t, 10*time.Second, func() bool { return col.Count() == 1 }, "orphan not claimed")
	connectortest.Eventually(t, 5*time.Second, func() bool {
		p, _ := c.XPending(ctx, stream, "g").Result()
		return p != nil && p.Count == 0
	}, "still pending after it was stored")
}

// An entry without a CloudEvent is wrapped; an invalid one goes to the
// dead-letter stream with the reason; both are acknowledged and counted.
func TestInvalidEntries(t *testing.T) {
	m := startMini(t)
	c := client(t, m.Addr())
	ctx := context.Background()
	stream := connectortest.Channel(t)
	c.XAdd(ctx, &goredis.XAddArgs{Stream: stream, Values: []any{"temperature", "21"}})
	c.XAdd(ctx, &goredis.XAddArgs{Stream: stream, Values: []any{"specversion", "1.0", "source", "/s", "type", "t"}})
	c.XAdd(ctx, &goredis.XAddArgs{Stream: stream, Values: []any{"specversion", "1.0", "id", "ok", "source", "/s", "type", "t"}})
	col := connectortest.NewCollector()
	deps := connectortest.Deps(col)
	connectortest.StartSourceWith(t, "src", fmt.Sprintf(`{"type":"redis","url":"redis://%s","stream":%q,"dead_letter":"dlq","wrap":{"type":"com.example.raw","source":"/redis"}}`, m.Addr(), stream), deps)
	connectortest.Eventually(t, 10*time.Second, func() bool { return col.Count() == 2 }, "stored %d of 2", col.Count())
	got := col.Events()
	if got[0].Type() != "com.example.raw" || string(got[0].Data()) != `{"temperature":"21"}` || got[1].ID() != "ok" {
		t.Fatalf("stored %v", got)
	}
	dl, err := c.XRange(ctx, "dlq", "-", "+").Result()
	if err != nil || len(dl) != 1 || dl[0].Values["eventbridge_error"] == nil || dl[0].Values["type"] != "t" {
		t.Fatalf("dead letters %v %v", dl, err)
	}
	if n := testutil.ToFloat64(deps.Metrics.ConnMessages.WithLabelValues("src", "redis", "in", "invalid")); n != 1 {
		t.Errorf("messages{in,invalid} = %v", n)
	}
	connectortest.Eventually(t, 5*time.Second, func() bool {
		p, _ := c.XPending(ctx, stream, "eventbridge-src").Result()
		return p != nil && p.Count == 0
	}, "entries left pending")
}

// A channel source subscribes again after the server restarts; its health
// shows the connection.
func TestPubSubReconnect(t *testing.T) {
	m := startMini(t)
	addr := m.Addr()
	ch := connectortest.Channel(t)
	col := connectortest.NewCollector()
	src := connectortest.StartSource(t, "src", fmt.Sprintf(`{"type":"redis","url":"redis://%s","channel":%q}`, addr, ch), col)
	if h := src.Health(); h.Detail["connected"] != true {
		t.Fatalf("not connected after Start: %+v", h)
	}
	m.Close()
	connectortest.Eventually(t, 10*time.Second, func() bool { return src.Health().Detail["connected"] == false }, "lost connection not noticed")
	m2 := miniredis.NewMiniRedis()
	if err := m2.StartAddr(addr); err != nil {
		t.Fatal(err)
	}
	defer m2.Close()
	connectortest.Eventually(t, 20*time.Second, func() bool {
		n, _ := client(t, addr).PubSubNumSub(context.Background(), ch).Result()
		return n[ch] == 1
	}, "not subscribed again")
	c := client(t, addr)
	c.Publish(context.Background(), ch, `{"specversion":"1.0","id":"after","source":"/s","type":"t"}`)
	connectortest.Eventually(t, 10*time.Second, func() bool { return col.Count() == 1 }, "nothing received after the restart")
}

// A stream key that holds another type is a permanent failure; without a
// server Send says ErrNotConnected.
func TestTargetRefusals(t *testing.T) {
	m := startMini(t)
	c := client(t, m.Addr())
	c.Set(context.Background(), "a-string", "x", 0)
	tg := connectortest.StartTarget(t, "tgt", fmt.Sprintf(`{"type":"redis","url":"redis://%s","stream":"a-{subject}"}`, m.Addr()))
	e := connectortest.Sample("1")
	e.SetSubject("string")
	connectortest.Eventually(t, 5*time.Second, func() bool { return tg.Health().Detail["connected"] == true }, "not connected")
	if err := tg.Send(context.Background(), e); !connector.IsPermanent(err) {
		t.Fatalf("WRONGTYPE: %v", err)
	}
	m.Close()
	connectortest.Eventually(t, 10*time.Second, func() bool {
		return errors.Is(tg.Send(context.Background(), connectortest.Sample("2")), connector.ErrNotConnected)
	}, "Send does not say ErrNotConnected")
}
