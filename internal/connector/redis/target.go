package redis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	goredis "github.com/redis/go-redis/v9"

	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/attrtemplate"
	"github.com/eventbridge-dev/eventbridge/internal/connector/conntrack"
	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
	"github.com/eventbridge-dev/eventbridge/internal/netguard"
	"github.com/eventbridge-dev/eventbridge/pkg/connector/batch"
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
	// batcher pipelines concurrent Sends when batch is set, from Start to
	// Stop.
	batcher atomic.Pointer[batch.Batcher[command]]

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
	if t.cfg.Batch != nil {
		t.batcher.Store(batch.New(t.cfg.Batch.Config(), t.flush))
	}
	return nil
}

// Stop closes the client; commands in flight fail.
func (t *Target) Stop(ctx context.Context) error {
	t.conn.Stopping()
	if b := t.batcher.Swap(nil); b != nil {
		_ = b.Close(ctx)
	}
	t.client.Stop(ctx, func(client *goredis.Client) { _ = client.Close() })
	t.conn.Stopped(nil)
	return nil
}

// command is the write of one event: XADD to a stream or PUBLISH to a
// channel.
type command struct {
	key     string
	publish []byte // the structured event, for PUBLISH
	xadd    []any  // the entry's fields, for XADD
}

// Send appends or publishes e. While the server is unreachable it returns
// connector.ErrNotConnected; refusals that will not change (WRONGTYPE,
// NOPERM, an event without the attributes the key names) are
// connector.Permanent. With batch set, the commands of concurrent Sends
// go to the server in one pipeline, each with its own outcome.
func (t *Target) Send(ctx context.Context, e *ce.Event) error {
	client, ok := t.client.Get()
	if !ok {
		return connector.ErrNotConnected
	}
	cmd, err := t.command(e)
	if err != nil {
		return err
	}
	if t.cfg.Batch != nil {
		b := t.batcher.Load()
		if b == nil {
			return connector.ErrNotConnected // stopped
		}
		return b.Submit(ctx, cmd, cmd.size())
	}
	if cmd.publish != nil {
		err = client.Publish(ctx, cmd.key, cmd.publish).Err()
	} else {
		err = client.XAdd(ctx, t.xaddArgs(cmd)).Err()
	}
	return t.outcome(cmd.key, err)
}

func (t *Target) command(e *ce.Event) (command, error) {
	key, err := t.key.Render(e)
	if err == nil && key == "" {
		err = errors.New("the stream or channel name is empty")
	}
	if err != nil {
		t.conn.Message(conntrack.Out, conntrack.Invalid, 1)
		return command{}, connector.Permanent(fmt.Errorf("stream or channel name: %w", err))
	}
	cmd := command{key: key}
	if t.cfg.Channel != "" {
		if cmd.publish, err = ebevent.EncodeJSON(e); err != nil {
			return command{}, connector.Permanent(fmt.Errorf("encode: %w", err))
		}
	} else if cmd.xadd, err = encodeEntry(e, t.cfg.Mode); err != nil {
		return command{}, connector.Permanent(fmt.Errorf("encode: %w", err))
	}
	return cmd, nil
}

// size is about the bytes cmd sends.
func (c command) size() int {
	n := len(c.key) + len(c.publish)
	for _, v := range c.xadd {
		switch v := v.(type) {
		case string:
			n += len(v)
		case []byte:
			n += len(v)
		}
	}
	return n
}

func (t *Target) xaddArgs(cmd command) *goredis.XAddArgs {
	return &goredis.XAddArgs{Stream: cmd.key, MaxLen: t.cfg.MaxLen, Approx: t.cfg.MaxLen > 0, Values: cmd.xadd}
}

// outcome counts and classifies the result of one command.
func (t *Target) outcome(key string, err error) error {
	if err == nil {
		t.conn.Message(conntrack.Out, conntrack.OK, 1)
		return nil
	}
	t.conn.Message(conntrack.Out, conntrack.Error, 1)
	return t.classify(key, err)
}

// flush sends cmds in one pipeline and returns each one's outcome.
func (t *Target) flush(ctx context.Context, cmds []command) []error {
	client, ok := t.client.Get()
	if !ok {
		return batch.All(connector.ErrNotConnected, len(cmds))
	}
	ctx, cancel := context.WithTimeout(ctx, t.cfg.Timeout.D())
	defer cancel()
	res, _ := client.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for _, c := range cmds {
			if c.publish != nil {
				p.Publish(ctx, c.key, c.publish)
			} else {
				p.XAdd(ctx, t.xaddArgs(c))
			}
		}
		return nil
	})
	errs := make([]error, len(cmds))
	for i, c := range cmds {
		var err error
		if i < len(res) {
			err = res[i].Err()
		} else {
			err = errors.New("no reply in the pipeline")
		}
		errs[i] = t.outcome(c.key, err)
	}
	return errs
}

// MinConcurrency implements batch.MinConcurrency.
func (t *Target) MinConcurrency() int {
	if t.cfg.Batch == nil {
		return 0
	}
	return t.cfg.Batch.MaxEvents
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

var (
	_ connector.Target     = (*Target)(nil)
	_ batch.MinConcurrency = (*Target)(nil)
)
