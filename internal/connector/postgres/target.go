package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/conntrack"
	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
	"github.com/eventbridge-dev/eventbridge/internal/netguard"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

// TargetConfig configures a postgres target. Exactly one of Table and
// Channel is set.
type TargetConfig struct {
	connector.Common `yaml:",inline"`
	ClientConfig     `yaml:",inline"`
	// Table receives one row per event (INSERT … ON CONFLICT (source, id)
	// DO NOTHING: a repeated delivery is stored once). It needs a unique
	// key on (source, id), as create_table makes.
	Table string `json:"table,omitempty"`
	// CreateTable creates Table if it does not exist.
	CreateTable bool `json:"create_table,omitempty"`
	// Channel receives each event with NOTIFY, in the JSON event format
	// (at most 8000 bytes). Only sessions listening at that moment get it.
	Channel string `json:"channel,omitempty"`
	// MaxConns bounds the connections. Default 4.
	MaxConns int `json:"max_conns,omitempty"`
	// Timeout bounds one statement. Default 10s.
	Timeout spec.Duration `json:"timeout,omitempty"`
}

// Defaults implements connector.Config.
func (c *TargetConfig) Defaults() {
	if c.MaxConns == 0 {
		c.MaxConns = 4
	}
	if c.Timeout == 0 {
		c.Timeout = spec.Duration(10 * time.Second)
	}
}

// Validate implements connector.Config.
func (c *TargetConfig) Validate(p spec.Problems) {
	c.validate(p)
	validateTableOrChannel(p, c.Table, c.Channel)
	if c.CreateTable && c.Table == "" {
		p.AddAt("create_table", "applies to table only")
	}
	if c.MaxConns < 1 {
		p.AddAt("max_conns", "must be at least 1")
	}
	if c.Timeout.D() <= 0 {
		p.AddAt("timeout", "must be positive")
	}
}

// Target inserts events into a table or sends them with NOTIFY.
type Target struct {
	name string
	cfg  *TargetConfig
	log  *slog.Logger
	// guard holds the connections of a target created through the API.
	guard  *netguard.Guard
	conn   *conntrack.Conn
	insert string

	pool conntrack.Client[*pgxpool.Pool]

	component.Tracker
}

func newTarget(name string, c connector.Config, deps connector.Deps) (connector.Target, error) {
	cfg := c.(*TargetConfig)
	t := &Target{name: name, cfg: cfg, log: deps.Log(), guard: deps.Guard}
	if cfg.Table != "" {
		t.insert = fmt.Sprintf(`INSERT INTO %s (id, source, type, time, subject, attributes, data, datacontenttype)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (source, id) DO NOTHING`, ident(cfg.Table))
	}
	t.conn = conntrack.New(&t.Tracker, deps.Metrics, name, "postgres")
	t.Set(component.New, nil)
	return t, nil
}

// Start creates the pool and returns; connecting (and creating the table)
// happens in the background, retried while the target runs.
func (t *Target) Start(ctx context.Context) error {
	t.conn.Starting()
	pc, err := t.cfg.poolConfig(int32(t.cfg.MaxConns), t.guard)
	if err != nil {
		t.Set(component.Failed, err)
		return fmt.Errorf("target %s: %w", t.name, err)
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), pc)
	if err != nil {
		t.Set(component.Failed, err)
		return fmt.Errorf("target %s: %w", t.name, err)
	}
	t.pool.Start(ctx, t.conn, pool, t.probe)
	return nil
}

// Stop closes the pool once statements in flight are done.
func (t *Target) Stop(ctx context.Context) error {
	t.conn.Stopping()
	t.pool.Stop(ctx, (*pgxpool.Pool).Close)
	t.conn.Stopped(nil)
	return nil
}

// probe connects (creating the table the first time, when asked to) and
// pings every two seconds, recording the result.
func (t *Target) probe(ctx context.Context, pool *pgxpool.Pool) {
	created := !t.cfg.CreateTable
	t.conn.Probe(ctx, 2*time.Second, conntrack.Backoff{Min: 200 * time.Millisecond, Max: 5 * time.Second}, func(ctx context.Context) error {
		var err error
		if !created {
			if _, err = pool.Exec(ctx, createTable(t.cfg.Table)); err == nil {
				created = true
			}
		} else {
			err = pool.Ping(ctx)
		}
		if err != nil {
			return fmt.Errorf("postgres: %w", err)
		}
		return nil
	})
}

// Send inserts (or notifies) e. While the database is unreachable it
// returns connector.ErrNotConnected; refusals that will not change (bad
// data, a missing table, no privilege) are connector.Permanent.
func (t *Target) Send(ctx context.Context, e *ce.Event) error {
	pool, ok := t.pool.Get()
	if !ok {
		return connector.ErrNotConnected
	}
	ctx, cancel := context.WithTimeout(ctx, t.cfg.Timeout.D())
	defer cancel()
	var err error
	if t.cfg.Channel != "" {
		var b []byte
		if b, err = ebevent.EncodeJSON(e); err != nil {
			return connector.Permanent(fmt.Errorf("encode: %w", err))
		}
		_, err = pool.Exec(ctx, "SELECT pg_notify($1, $2)", t.cfg.Channel, string(b))
	} else {
		var r row
		if r, err = toRow(e); err != nil {
			return connector.Permanent(fmt.Errorf("encode: %w", err))
		}
		_, err = pool.Exec(ctx, t.insert, r.ID, r.Source, r.Type, r.Time, r.Subject, string(r.Attributes), r.Data, r.DataContentType)
	}
	if err == nil {
		t.conn.Message(conntrack.Out, conntrack.OK, 1)
		return nil
	}
	t.conn.Message(conntrack.Out, conntrack.Error, 1)
	return t.classify(err)
}

// classify sorts a statement's error by its SQLSTATE class: data
// exceptions (22), integrity (23), syntax, missing objects and privileges
// (42) and program limits (54) are permanent; connection failures (08,
// 57P0x and errors without a server reply) mean not connected; the rest
// (serialization, resources) is retryable.
func (t *Target) classify(err error) error {
	what := t.cfg.Table
	if what == "" {
		what = "channel " + t.cfg.Channel
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case strings.HasPrefix(pe.Code, "22"), strings.HasPrefix(pe.Code, "23"), strings.HasPrefix(pe.Code, "42"), strings.HasPrefix(pe.Code, "54"):
			return connector.Permanent(fmt.Errorf("postgres %s: %w", what, err))
		case strings.HasPrefix(pe.Code, "08"), strings.HasPrefix(pe.Code, "57P"):
			t.conn.Down(err)
		}
		return fmt.Errorf("postgres %s: %w", what, err)
	}
	if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		t.conn.Down(err) // no reply from the server: the connection broke
	}
	return fmt.Errorf("postgres %s: %w", what, err)
}

var (
	_ connector.Target = (*Target)(nil)
	_ connector.Config = (*TargetConfig)(nil)
)
