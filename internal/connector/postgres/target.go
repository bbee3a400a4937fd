package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/conntrack"
	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
	"github.com/eventbridge-dev/eventbridge/internal/netguard"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
	"github.com/eventbridge-dev/eventbridge/pkg/connector/batch"
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
	// Batch, when set, writes the events of concurrent deliveries in one
	// transaction, their statements pipelined (max_events, max_bytes,
	// linger); when it fails, each event is written on its own, so each
	// has its own outcome.
	Batch *batch.Spec `json:"batch,omitempty"`
}

// Defaults implements connector.Config.
func (c *TargetConfig) Defaults() {
	if c.MaxConns == 0 {
		c.MaxConns = 4
	}
	if c.Timeout == 0 {
		c.Timeout = spec.Duration(10 * time.Second)
	}
	if c.Batch != nil {
		c.Batch.Defaults()
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
	if c.Batch != nil {
		c.Batch.Validate(p.At("batch"))
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
	// batcher gathers concurrent Sends when batch is set, from Start to
	// Stop.
	batcher atomic.Pointer[batch.Batcher[statement]]

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
	if t.cfg.Batch != nil {
		t.batcher.Store(batch.New(t.cfg.Batch.Config(), t.flush))
	}
	return nil
}

// Stop closes the pool once statements in flight are done.
func (t *Target) Stop(ctx context.Context) error {
	t.conn.Stopping()
	if b := t.batcher.Swap(nil); b != nil {
		_ = b.Close(ctx)
	}
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

// statement is the write of one event.
type statement struct {
	sql  string
	args []any
	size int
}

// Send inserts (or notifies) e. While the database is unreachable it
// returns connector.ErrNotConnected; refusals that will not change (bad
// data, a missing table, no privilege) are connector.Permanent.
func (t *Target) Send(ctx context.Context, e *ce.Event) error {
	pool, ok := t.pool.Get()
	if !ok {
		return connector.ErrNotConnected
	}
	st, err := t.statement(e)
	if err != nil {
		return err
	}
	if t.cfg.Batch != nil {
		b := t.batcher.Load()
		if b == nil {
			return connector.ErrNotConnected // stopped
		}
		return b.Submit(ctx, st, st.size)
	}
	ctx, cancel := context.WithTimeout(ctx, t.cfg.Timeout.D())
	defer cancel()
	_, err = pool.Exec(ctx, st.sql, st.args...)
	return t.outcome(err)
}

func (t *Target) statement(e *ce.Event) (statement, error) {
	if t.cfg.Channel != "" {
		b, err := ebevent.EncodeJSON(e)
		if err != nil {
			return statement{}, connector.Permanent(fmt.Errorf("encode: %w", err))
		}
		return statement{sql: "SELECT pg_notify($1, $2)", args: []any{t.cfg.Channel, string(b)}, size: len(b)}, nil
	}
	r, err := toRow(e)
	if err != nil {
		return statement{}, connector.Permanent(fmt.Errorf("encode: %w", err))
	}
	return statement{
		sql:  t.insert,
		args: []any{r.ID, r.Source, r.Type, r.Time, r.Subject, string(r.Attributes), r.Data, r.DataContentType},
		size: len(r.Attributes) + len(r.Data),
	}, nil
}

// outcome counts and classifies the result of one statement.
func (t *Target) outcome(err error) error {
	if err == nil {
		t.conn.Message(conntrack.Out, conntrack.OK, 1)
		return nil
	}
	t.conn.Message(conntrack.Out, conntrack.Error, 1)
	return t.classify(err)
}

// flush writes sts in one transaction, pipelined. A statement that fails
// aborts the transaction (and the others with it), so the statements are
// then run again one by one, each with its own outcome: inserts are
// idempotent (ON CONFLICT DO NOTHING), notifications of a rolled-back
// transaction were never sent.
func (t *Target) flush(ctx context.Context, sts []statement) []error {
	pool, ok := t.pool.Get()
	if !ok {
		return batch.All(connector.ErrNotConnected, len(sts))
	}
	ctx, cancel := context.WithTimeout(ctx, t.cfg.Timeout.D())
	defer cancel()
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		for _, st := range sts {
			b.Queue(st.sql, st.args...)
		}
		return tx.SendBatch(ctx, b).Close()
	})
	if err == nil {
		t.conn.Message(conntrack.Out, conntrack.OK, len(sts))
		return nil
	}
	var pe *pgconn.PgError
	if len(sts) == 1 || !errors.As(err, &pe) {
		return batch.All(t.outcome(err), len(sts)) // the database, not an event
	}
	errs := make([]error, len(sts))
	for i, st := range sts {
		_, err := pool.Exec(ctx, st.sql, st.args...)
		errs[i] = t.outcome(err)
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
	_ batch.MinConcurrency = (*Target)(nil)
	_ connector.Target     = (*Target)(nil)
	_ connector.Config     = (*TargetConfig)(nil)
)
