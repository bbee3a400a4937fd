package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/jackc/pgx/v5"

	"github.com/eventbridge-dev/eventbridge/internal/connector/conntrack"
	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
)

// errNotCloudEvent is returned for a payload that is not a JSON object
// with a specversion member.
var errNotCloudEvent = errors.New("not a CloudEvent")

// decodePayload reads the event in a notification's payload: the JSON
// event format.
func decodePayload(payload string) (*ce.Event, error) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal([]byte(payload), &probe); err != nil {
		return nil, errNotCloudEvent
	}
	if _, ok := probe["specversion"]; !ok {
		return nil, errNotCloudEvent
	}
	return ebevent.DecodeJSON([]byte(payload))
}

// listen is the LISTEN loop: connect, LISTEN, and hand each notification
// to Ingest. The server queues notifications for the session while
// Ingest is retried, so while connected nothing is lost; what is notified
// while disconnected is.
func (s *Source) listen(ctx context.Context) {
	s.Conn.Link("receiver", 1)
	defer s.Conn.Link("receiver", -1)
	var bo conntrack.Backoff
	for ctx.Err() == nil {
		err := s.session(ctx, &bo)
		if ctx.Err() != nil {
			return
		}
		s.Conn.Down(fmt.Errorf("postgres: %w", err))
		s.Log.Debug("listen session ended", "err", err)
		conntrack.Sleep(ctx, bo.Next())
	}
}

// session runs one connection until it fails.
func (s *Source) session(ctx context.Context, bo *conntrack.Backoff) error {
	cfg, err := s.cfg.connConfig(s.Deps.Guard)
	if err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	c, err := pgx.ConnectConfig(cctx, cfg)
	cancel()
	if err != nil {
		return err
	}
	defer c.Close(context.WithoutCancel(ctx))
	if s.cfg.DeadLetter != "" {
		if _, err := c.Exec(ctx, createDeadLetter(s.cfg.DeadLetter)); err != nil {
			return fmt.Errorf("dead-letter table: %w", err)
		}
	}
	if _, err := c.Exec(ctx, "LISTEN "+pgx.Identifier{s.cfg.Channel}.Sanitize()); err != nil {
		return err
	}
	s.Conn.Up()
	bo.Reset()
	for {
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		n, err := c.WaitForNotification(wctx)
		cancel()
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, context.DeadlineExceeded):
			// Quiet channel: check that the connection still works.
			pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err = c.Ping(pctx)
			cancel()
			if err != nil {
				return err
			}
			continue
		case err != nil:
			return err
		}
		if err := s.notification(ctx, c, n.Channel, n.Payload); err != nil {
			return err
		}
	}
}

// notification stores one payload, retrying Ingest until it succeeds or
// the source stops. Invalid payloads are wrapped, dead-lettered or
// dropped (logged and counted).
func (s *Source) notification(ctx context.Context, c *pgx.Conn, channel, payload string) error {
	s.Received(1)
	e, err := decodePayload(payload)
	if err == nil {
		err = s.cfg.CheckExtensions(e)
	}
	switch {
	case err == nil:
	case errors.Is(err, errNotCloudEvent) && s.cfg.Wrap != nil:
		e = s.cfg.Wrap.Event([]byte(payload), wrapContentType(payload), channel)
	default:
		s.Invalid(err)
		s.Log.Warn("notification is not a valid CloudEvent", "channel", channel, "err", err, "dead_letter", s.cfg.DeadLetter)
		if s.cfg.DeadLetter == "" {
			return nil
		}
		p, _ := json.Marshal(payload) // as a JSON string: the payload may be no JSON at all
		_, err := c.Exec(ctx, fmt.Sprintf("INSERT INTO %s (connector, error, origin, payload) VALUES ($1, $2, $3, $4)", ident(s.cfg.DeadLetter)),
			s.Name, err.Error(), channel, string(p))
		return err
	}
	var bo conntrack.Backoff
	for {
		err := s.Store(ctx, s.cfg.IngestTimeout.D(), []*ce.Event{e})
		if err == nil {
			return nil
		}
		// Store logged it, once per outage (intake.Failures).
		if !conntrack.Sleep(ctx, bo.Next()) {
			return ctx.Err()
		}
	}
}

func wrapContentType(p string) string {
	if json.Valid([]byte(p)) {
		return "application/json"
	}
	return "text/plain; charset=utf-8"
}
