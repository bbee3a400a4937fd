package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/jackc/pgx/v5"

	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
	"github.com/eventbridge-dev/eventbridge/pkg/connector/batch"
)

// With batch set, 30 events sent at once are inserted in a few
// transactions; the one in six that the database refuses (a NUL in an
// attribute, which jsonb cannot hold) fails on its own, for good, and
// every other row is there once.
func TestTargetBatch(t *testing.T) {
	url := dbURL(t)
	table := name(connectortest.Channel(t))
	dropLater(t, url, table)
	tg := connectortest.StartTarget(t, "out", fmt.Sprintf(
		`{"type":"postgres","url":%q,"table":%q,"create_table":true,"batch":{"max_events":10,"linger":"50ms"}}`, url, table))
	if n := tg.(batch.MinConcurrency).MinConcurrency(); n != 10 {
		t.Errorf("MinConcurrency %d", n)
	}
	var events []*ce.Event
	for i := range 30 {
		e := connectortest.Sample(fmt.Sprintf("p%d", i))
		if i%6 == 0 {
			e.SetExtension("note", "a\x00b")
		}
		events = append(events, e)
	}
	for id, err := range connectortest.SendConcurrently(tg, events) {
		var i int
		fmt.Sscanf(id, "p%d", &i)
		if i%6 == 0 {
			// Refused by the database (SQLSTATE 22P05), not before.
			if !connector.IsPermanent(err) || !strings.Contains(err.Error(), "22P05") {
				t.Errorf("%s with a NUL: %v, want the database's permanent refusal", id, err)
			}
		} else if err != nil {
			t.Errorf("%s: %v", id, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var n int
	if err := c.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{table}.Sanitize()).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 25 {
		t.Errorf("%d rows, want 25", n)
	}
}
