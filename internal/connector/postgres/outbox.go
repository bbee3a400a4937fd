package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/eventbridge-dev/eventbridge/internal/connector/conntrack"
)

// errStore marks a failed Ingest: the rows stay, the connection is fine.
var errStore = errors.New("events not stored")

// poll is the outbox loop: one transaction per batch, rows locked with
// FOR UPDATE SKIP LOCKED (so several bridges can share an outbox), events
// stored, then the rows deleted or marked, then commit.
func (s *Source) poll(ctx context.Context) {
	s.Conn.Link("receiver", 1)
	defer s.Conn.Link("receiver", -1)
	pc, _ := s.cfg.poolConfig(2, s.Deps.Guard)
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		s.Conn.Down(err)
		return
	}
	defer pool.Close()
	var bo conntrack.Backoff
	query := ""
	for ctx.Err() == nil {
		if query == "" {
			q, err := s.prepare(ctx, pool)
			if err != nil {
				s.failed(ctx, err, &bo)
				continue
			}
			query = q
		}
		n, err := s.batch(ctx, pool, query)
		switch {
		case err == nil:
			s.Conn.Up()
			bo.Reset()
			if n < s.cfg.Batch {
				conntrack.Sleep(ctx, s.cfg.PollInterval.D())
			}
		case errors.Is(err, errStore):
			// Store logged it, once per outage (intake.Failures); the rows
			// stay and are read again.
			s.Conn.Up()
			conntrack.Sleep(ctx, bo.Next())
		default:
			var pe *pgconn.PgError
			if errors.As(err, &pe) && strings.HasPrefix(pe.Code, "42") {
				query = "" // the table changed (or is missing): look at it again
			}
			s.failed(ctx, err, &bo)
		}
	}
}

func (s *Source) failed(ctx context.Context, err error, bo *conntrack.Backoff) {
	if ctx.Err() != nil {
		return
	}
	s.Conn.Down(fmt.Errorf("postgres: %w", err))
	s.Log.Debug("outbox poll failed", "err", err)
	conntrack.Sleep(ctx, bo.Next())
}

// prepare builds the SELECT for the table's columns: data is read as
// bytes whatever its type (bytea as is, text and json as UTF-8), other
// columns cast to what the event needs.
func (s *Source) prepare(ctx context.Context, pool *pgxpool.Pool) (string, error) {
	if s.cfg.DeadLetter != "" {
		if _, err := pool.Exec(ctx, createDeadLetter(s.cfg.DeadLetter)); err != nil {
			return "", fmt.Errorf("dead-letter table: %w", err)
		}
	}
	c := s.cfg.Columns
	dataExpr := "NULL::bytea"
	if c.Data != "-" {
		var typ string
		err := pool.QueryRow(ctx, `SELECT format_type(atttypid, atttypmod) FROM pg_attribute
WHERE attrelid = $1::regclass AND attname = $2 AND NOT attisdropped`, ident(s.cfg.Table), c.Data).Scan(&typ)
		if err != nil {
			return "", fmt.Errorf("table %s, column %s: %w", s.cfg.Table, c.Data, err)
		}
		dataExpr = pgx.Identifier{c.Data}.Sanitize()
		if typ != "bytea" {
			dataExpr = fmt.Sprintf("convert_to(%s::text, 'UTF8')", dataExpr)
		}
	}
	col := func(name, cast string) string {
		if name == "-" {
			return "NULL::" + cast
		}
		return pgx.Identifier{name}.Sanitize() + "::" + cast
	}
	var b strings.Builder
	fmt.Fprintf(&b, "SELECT ctid, %s, %s, %s, %s, %s, %s, %s, %s FROM %s",
		col(c.ID, "text"), col(c.Source, "text"), col(c.Type, "text"), col(c.Time, "timestamptz"), col(c.Subject, "text"),
		col(c.Attributes, "text"), dataExpr, col(c.DataContentType, "text"), ident(s.cfg.Table))
	if s.cfg.After == "mark" {
		fmt.Fprintf(&b, " WHERE %s IS NULL", pgx.Identifier{s.cfg.DoneColumn}.Sanitize())
	}
	if s.cfg.OrderBy != "-" {
		fmt.Fprintf(&b, " ORDER BY %s", pgx.Identifier{s.cfg.OrderBy}.Sanitize())
	}
	fmt.Fprintf(&b, " LIMIT %d FOR UPDATE SKIP LOCKED", s.cfg.Batch)
	return b.String(), nil
}

// batch handles one batch in one transaction and returns how many rows it
// found.
func (s *Source) batch(ctx context.Context, pool *pgxpool.Pool, query string) (int, error) {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	rows, err := tx.Query(ctx, query)
	if err != nil {
		return 0, err
	}
	var ctids []pgtype.TID
	var events []*ce.Event
	type bad struct {
		r   row
		err error
	}
	var invalid []bad
	for rows.Next() {
		var tid pgtype.TID
		var r row
		var attrs *string
		if err := rows.Scan(&tid, &r.ID, &r.Source, &r.Type, &r.Time, &r.Subject, &attrs, &r.Data, &r.DataContentType); err != nil {
			rows.Close()
			return 0, err
		}
		if attrs != nil {
			r.Attributes = []byte(*attrs)
		}
		ctids = append(ctids, tid)
		e, err := r.toEvent()
		if err == nil {
			err = s.cfg.CheckExtensions(e)
		}
		if err != nil {
			invalid = append(invalid, bad{r, err})
		} else {
			events = append(events, e)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if len(ctids) == 0 {
		return 0, nil
	}
	s.Received(len(ctids))
	for _, b := range invalid {
		s.Invalid(b.err)
		s.Log.Warn("row is not a valid CloudEvent", "table", s.cfg.Table, "id", deref(b.r.ID), "source", deref(b.r.Source), "err", b.err, "dead_letter", s.cfg.DeadLetter)
		if s.cfg.DeadLetter != "" {
			payload, _ := json.Marshal(b.r.json())
			if _, err := tx.Exec(ctx, fmt.Sprintf("INSERT INTO %s (connector, error, origin, payload) VALUES ($1, $2, $3, $4)", ident(s.cfg.DeadLetter)),
				s.Name, b.err.Error(), s.cfg.Table, string(payload)); err != nil {
				return 0, fmt.Errorf("dead letter: %w", err)
			}
		}
	}
	if err := s.Store(ctx, s.cfg.IngestTimeout.D(), events); err != nil {
		return 0, fmt.Errorf("%w: %w", errStore, err)
	}
	// The events are stored: finish even if the source is stopping.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	done := fmt.Sprintf("DELETE FROM %s WHERE ctid = ANY($1)", ident(s.cfg.Table))
	if s.cfg.After == "mark" {
		done = fmt.Sprintf("UPDATE %s SET %s = now() WHERE ctid = ANY($1)", ident(s.cfg.Table), pgx.Identifier{s.cfg.DoneColumn}.Sanitize())
	}
	if _, err := tx.Exec(fctx, done, ctids); err != nil {
		return 0, err
	}
	return len(ctids), tx.Commit(fctx)
}

// json is a row as the dead-letter table keeps it.
func (r *row) json() map[string]any {
	m := map[string]any{"id": r.ID, "source": r.Source, "type": r.Type, "time": r.Time, "subject": r.Subject, "datacontenttype": r.DataContentType, "data": r.Data}
	if json.Valid(r.Attributes) {
		m["attributes"] = json.RawMessage(r.Attributes)
	}
	return m
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
