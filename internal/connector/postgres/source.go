package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/intake"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

// SourceConfig configures a postgres source. Exactly one of Table (an
// outbox) and Channel (LISTEN) is set.
type SourceConfig struct {
	connector.Common `yaml:",inline"`
	ClientConfig     `yaml:",inline"`
	// Table is an outbox, polled with SELECT … FOR UPDATE SKIP LOCKED:
	// at-least-once. Its rows are deleted (or marked done) in the same
	// transaction, after their events are stored.
	Table string `json:"table,omitempty"`
	// Columns name the outbox's columns (defaults: the names of the
	// target's table).
	Columns Columns `json:"columns,omitempty"`
	// OrderBy is the column rows are read in order of. Default "seq";
	// "-" for no order.
	OrderBy string `json:"order_by,omitempty"`
	// After is what happens to a stored row: delete (default) or mark
	// (set DoneColumn to now()).
	After string `json:"after,omitempty"`
	// DoneColumn is the timestamptz column that marks done rows (After:
	// mark); rows where it is not null are skipped.
	DoneColumn string `json:"done_column,omitempty"`
	// Batch is the most rows read (and stored) in one transaction.
	// Default 100.
	Batch int `json:"batch,omitempty"`
	// PollInterval is the wait after a poll that found fewer rows than
	// Batch. Default 500ms.
	PollInterval spec.Duration `json:"poll_interval,omitempty"`
	// Channel is LISTENed to; each notification's payload is an event in
	// the JSON format. Notifications sent while the source is not
	// connected are lost (at-most-once then).
	Channel string `json:"channel,omitempty"`
	// Config has ingest_timeout, the extension limits, and wrap, which
	// turns notification payloads that are not CloudEvents (channel
	// sources only) into events.
	intake.Config `yaml:",inline"`
	// DeadLetter is a table (created if missing) that rows and payloads
	// which are not valid CloudEvents are written to, with the reason,
	// before the row is deleted or marked. Without it they are logged,
	// counted and dropped.
	DeadLetter string `json:"dead_letter,omitempty"`
}

// Defaults implements connector.Config.
func (c *SourceConfig) Defaults() {
	c.Config.Defaults()
	c.Columns.defaults()
	if c.OrderBy == "" {
		c.OrderBy = "seq"
	}
	if c.After == "" {
		c.After = "delete"
	}
	if c.Batch == 0 {
		c.Batch = 100
	}
	if c.PollInterval == 0 {
		c.PollInterval = spec.Duration(500 * time.Millisecond)
	}
}

// Validate implements connector.Config.
func (c *SourceConfig) Validate(p spec.Problems) {
	c.Config.Validate(p)
	c.validate(p)
	validateTableOrChannel(p, c.Table, c.Channel)
	for _, col := range c.Columns.list() {
		if col[1] != "-" && (!validName(col[1]) || strings.Contains(col[1], ".")) {
			p.At("columns").AddAt(col[0], "%q is not a column name", col[1])
		}
	}
	for _, req := range []string{c.Columns.ID, c.Columns.Source, c.Columns.Type} {
		if req == "-" && c.Columns.Attributes == "-" {
			p.AddAt("columns", "id, source and type need a column, or the attributes column")
			break
		}
	}
	switch c.After {
	case "delete":
	case "mark":
		if c.DoneColumn == "" {
			p.AddAt("done_column", "required with after: mark")
		}
	default:
		p.AddAt("after", "must be delete or mark, not %q", c.After)
	}
	if c.DoneColumn != "" && !validName(c.DoneColumn) {
		p.AddAt("done_column", "%q is not a column name", c.DoneColumn)
	}
	if c.OrderBy != "-" && !validName(c.OrderBy) {
		p.AddAt("order_by", "%q is not a column name", c.OrderBy)
	}
	if c.Batch < 1 || c.Batch > 10000 {
		p.AddAt("batch", "must be between 1 and 10000")
	}
	if c.PollInterval.D() < 10*time.Millisecond {
		p.AddAt("poll_interval", "must be at least 10ms")
	}
	if c.DeadLetter != "" && (!validName(c.DeadLetter) || c.DeadLetter == c.Table) {
		p.AddAt("dead_letter", "%q is not a table name other than table", c.DeadLetter)
	}
	if c.Wrap != nil && c.Channel == "" {
		p.AddAt("wrap", "applies to channel sources only: every outbox row is meant as an event")
	}
}

// Source reads CloudEvents from an outbox table or a LISTEN channel.
type Source struct {
	intake.Base
	cfg *SourceConfig
}

func newSource(name string, c connector.Config, deps connector.Deps) (connector.Source, error) {
	s := &Source{cfg: c.(*SourceConfig)}
	s.Init(name, "postgres", deps)
	return s, nil
}

// Start returns once the source is connected, or after a few seconds
// while it keeps trying in the background: a database that is down does
// not fail Start.
func (s *Source) Start(ctx context.Context) error {
	s.Conn.Starting()
	if _, err := s.cfg.connConfig(nil); err != nil {
		s.Set(component.Failed, err)
		return fmt.Errorf("source %s: %w", s.Name, err)
	}
	rctx := s.Loops.Start()
	if s.cfg.Channel != "" {
		s.SetDetail("channel", s.cfg.Channel)
		s.Loops.Go(func() { s.listen(rctx) })
	} else {
		s.SetDetail("table", s.cfg.Table)
		s.Loops.Go(func() { s.poll(rctx) })
	}
	s.Conn.WaitUp(ctx, 5*time.Second)
	return nil
}

// Stop stops reading. A batch in hand finishes (its rows are deleted if
// its events were stored); a transaction cut short rolls back, leaving
// its rows for the next start.
func (s *Source) Stop(ctx context.Context) error {
	s.Conn.Stopping()
	s.Loops.Stop(ctx, nil)
	s.Conn.Stopped(nil)
	return nil
}

var _ connector.Source = (*Source)(nil)
