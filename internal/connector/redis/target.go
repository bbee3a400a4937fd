package redis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	goredis "github.com/redis/go-redis/v9"

	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/attrtemplate"
	"github.com/eventbridge-dev/eventbridge/internal/connector/conntrack"
	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
	"github.com/eventbridge-dev/eventbridge/internal/netguard"
)

// Target appends events to a stream (XADD) or publishes them to a channel
// (PUBLISH). A published event reaches only the subscribers connected at
// that moment; Send succeeds even when there are none.
type Target struct {
	name string
	cfg  *TargetConfig
	log  *slog.Logger
	// guard holds the connections of a target created through the API.
	guard *netguard.Guard
	conn  *conntrack.Conn
	key   attrtemplate.Template

	client conntrack.Client[*goredis.Client]

	component.Tracker
}

func newTarget(name string, c connector.Config, deps connector.Deps) (connector.Target, error) {
	cfg := c.(*TargetConfig)
	t := &Target{name: name, cfg: cfg, log: deps.Log(), guard: deps.Guard}
	key := cfg.Stream
	if key == "" {
		key = cfg.Channel
	}
	var err error
	if t.key, err = attrtemplate.Parse(key); err != nil {
		return nil, fmt.Errorf("target %s: %w", name, err)
	}
	t.conn = conntrack.New(&t.Tracker, deps.Metrics, name, "redis")
	t.Set(component.New, nil)
	return t, nil
}

// Start creates the client and returns; a probe connects in the
// background.
func (t *Target) Start(ctx context.Context) error {
	t.conn.Starting()
	o, err := t.cfg.options(t.guard)
	if err != nil {
		t.Set(component.Failed, err)
		return fmt.Errorf("target %s: %w", t.name, err)
	}
	o.ReadTimeout, o.WriteTimeout = t.cfg.Timeout.D(), t.cfg.Timeout.D()
	t.client.Start(ctx, t.conn, goredis.NewClient(o), func(ctx context.Context, client *goredis.Client) { probe(ctx, client, t.conn) })
	return nil
}

// Stop closes the client; commands in flight fail.
func (t *Target) Stop(ctx context.Context) error {
	t.conn.Stopping()
	t.client.Stop(ctx, func(client *goredis.Client) { _ = client.Close() })
	t.conn.Stopped(nil)
	return nil
}

// Send appends or publishes e. While the server is unreachable it returns
// connector.ErrNotConnected; refusals that will not change (WRONGTYPE,
// NOPERM, an event without the attributes the key names) are
// connector.Permanent.
func (t *Target) Send(ctx context.Context, e *ce.Event) error {
	client, ok := t.client.Get()
	if !ok {
		return connector.ErrNotConnected
	}
	key, err := t.key.Render(e)
	if err == nil && key == "" {
		err = errors.New("the stream or channel name is empty")
	}
	if err != nil {
		t.conn.Message(conntrack.Out, conntrack.Invalid, 1)
		return connector.Permanent(fmt.Errorf("stream or channel name: %w", err))
	}
	if t.cfg.Channel != "" {
		var b []byte
		if b, err = ebevent.EncodeJSON(e); err != nil {
			return connector.Permanent(fmt.Errorf("encode: %w", err))
		}
		err = client.Publish(ctx, key, b).Err()
	} else {
		var vals []any
		if vals, err = encodeEntry(e, t.cfg.Mode); err != nil {
			return connector.Permanent(fmt.Errorf("encode: %w", err))
		}
		err = client.XAdd(ctx, &goredis.XAddArgs{Stream: key, MaxLen: t.cfg.MaxLen, Approx: t.cfg.MaxLen > 0, Values: vals}).Err()
	}
	if err == nil {
		t.conn.Message(conntrack.Out, conntrack.OK, 1)
		return nil
	}
	t.conn.Message(conntrack.Out, conntrack.Error, 1)
	return t.classify(key, err)
}

// permanent reports whether a server reply is one the same command will
// get again: the key holds another type, the user may not write it, the
// value is over the server's size limit.
func permanent(msg string) bool {
	return strings.HasPrefix(msg, "WRONGTYPE ") || strings.HasPrefix(msg, "NOPERM ") ||
		strings.HasPrefix(msg, "ERR ") && (strings.Contains(msg, "exceeds maximum") || strings.Contains(msg, "too large"))
}

func (t *Target) classify(key string, err error) error {
	var rerr goredis.Error
	if errors.As(err, &rerr) {
		if permanent(rerr.Error()) {
			return connector.Permanent(fmt.Errorf("redis %s: %w", key, err))
		}
		return fmt.Errorf("redis %s: %w", key, err) // OOM, LOADING, BUSY, READONLY...: may pass later
	}
	if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		t.conn.Down(err) // a network error: Send says ErrNotConnected until the probe reconnects
	}
	return fmt.Errorf("redis %s: %w", key, err)
}

// probe pings the server every two seconds while connected, and with
// backoff while not, and records the result.
func probe(ctx context.Context, client *goredis.Client, conn *conntrack.Conn) {
	conn.Probe(ctx, 2*time.Second, conntrack.Backoff{Min: 200 * time.Millisecond, Max: 5 * time.Second}, func(ctx context.Context) error {
		if err := client.Ping(ctx).Err(); err != nil {
			return fmt.Errorf("redis: %w", err)
		}
		return nil
	})
}

var _ connector.Target = (*Target)(nil)
