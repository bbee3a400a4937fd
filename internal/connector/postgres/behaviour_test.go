package postgres_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
)

func count(t testing.TB, url, sql string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var n int
	if err := c.QueryRow(ctx, sql).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// The same event sent twice is one row; a missing table and an oversized
// NOTIFY payload are permanent failures.
func TestIntegrationTargetIdempotentAndRefusals(t *testing.T) {
	url := dbURL(t)
	table := name(connectortest.Channel(t))
	dropLater(t, url, table)
	tg := connectortest.StartTarget(t, "tgt", fmt.Sprintf(`{"type":"postgres","url":%q,"table":%q,"create_table":true}`, url, table))
	e := connectortest.Sample("twice")
	connectortest.Send(t, tg, e)
	connectortest.Send(t, tg, e)
	if n := count(t, url, "SELECT count(*) FROM "+table); n != 1 {
		t.Fatalf("%d rows", n)
	}
	if n := count(t, url, fmt.Sprintf(`SELECT count(*) FROM %s WHERE attributes->>'strext' LIKE 'a value%%' AND data IS NOT NULL AND time IS NOT NULL`, table)); n != 1 {
		t.Fatal("attributes or data not stored")
	}
	ctx := context.Background()
	missing := connectortest.StartTarget(t, "missing", fmt.Sprintf(`{"type":"postgres","url":%q,"table":"eb_no_such_table"}`, url))
	if err := missing.Send(ctx, e); !connector.IsPermanent(err) {
		t.Fatalf("missing table: %v", err)
	}
	notify := connectortest.StartTarget(t, "notify", fmt.Sprintf(`{"type":"postgres","url":%q,"channel":"eb_big"}`, url))
	big := connectortest.Sample("big")
	_ = big.SetData("text/plain", string(make([]byte, 9000)))
	if err := notify.Send(ctx, big); !connector.IsPermanent(err) {
		t.Fatalf("payload too long: %v", err)
	}
}

// An application's outbox (its own column types and names) is read with
// after: mark; a row that is no valid event goes to the dead-letter table
// and is marked too.
func TestIntegrationOutboxMarkAndDeadLetter(t *testing.T) {
	url := dbURL(t)
	table, dlq := name(connectortest.Channel(t)), name(connectortest.Channel(t)+"dlq")
	dropLater(t, url, table)
	dropLater(t, url, dlq)
	sqlExec(t, url, fmt.Sprintf(`CREATE TABLE %s (n serial, event_id uuid, src text, kind text, body jsonb, ext jsonb, sent_at timestamptz)`, table))
	sqlExec(t, url, fmt.Sprintf(`INSERT INTO %s (event_id, src, kind, body, ext) VALUES
  ('00000000-0000-0000-0000-000000000001', '/shop', 'order.created', '{"total": 42}', '{"region": "eu"}'),
  ('00000000-0000-0000-0000-000000000002', '/shop', NULL, '{}', NULL),
  ('00000000-0000-0000-0000-000000000003', '/shop', 'order.paid', NULL, NULL)`, table))
	col := connectortest.NewCollector()
	deps := connectortest.Deps(col)
	connectortest.StartSourceWith(t, "src", fmt.Sprintf(`{"type":"postgres","url":%q,"table":%q,"order_by":"n","after":"mark","done_column":"sent_at","dead_letter":%q,
"columns":{"id":"event_id","source":"src","type":"kind","time":"-","subject":"-","attributes":"ext","data":"body","datacontenttype":"-"}}`, url, table, dlq), deps)
	connectortest.Eventually(t, 10*time.Second, func() bool { return col.Count() == 2 }, "stored %d of 2", col.Count())
	got := col.Events()
	if got[0].Type() != "order.created" || string(got[0].Data()) != `{"total": 42}` || got[0].Extensions()["region"] != "eu" || got[1].Type() != "order.paid" {
		t.Fatalf("stored %v", got)
	}
	connectortest.Eventually(t, 5*time.Second, func() bool {
		return count(t, url, fmt.Sprintf("SELECT count(*) FROM %s WHERE sent_at IS NOT NULL", table)) == 3
	}, "rows not marked")
	if n := count(t, url, fmt.Sprintf(`SELECT count(*) FROM %s WHERE error LIKE '%%type%%' AND payload->>'id' = '00000000-0000-0000-0000-000000000002'`, dlq)); n != 1 {
		t.Fatal("no dead letter")
	}
	if n := testutil.ToFloat64(deps.Metrics.Rejected.WithLabelValues("src", "invalid")); n != 1 {
		t.Errorf("rejected{invalid} = %v", n)
	}
}

// A payload that is no CloudEvent is wrapped; an invalid event goes to
// the dead-letter table. After a restart of the server (only under
// EVENTBRIDGE_INTEGRATION=1) the source listens again.
func TestIntegrationListen(t *testing.T) {
	url := dbURL(t)
	ch, dlq := name(connectortest.Channel(t)), name(connectortest.Channel(t)+"dlq")
	dropLater(t, url, dlq)
	col := connectortest.NewCollector()
	src := connectortest.StartSource(t, "src", fmt.Sprintf(`{"type":"postgres","url":%q,"channel":%q,"dead_letter":%q,"wrap":{"type":"com.example.raw","source":"/pg"}}`, url, ch, dlq), col)
	if src.Health().Detail["connected"] != true {
		t.Fatalf("not connected after Start: %+v", src.Health())
	}
	sqlExec(t, url, "SELECT pg_notify($1, $2)", ch, "plain text")
	sqlExec(t, url, "SELECT pg_notify($1, $2)", ch, `{"specversion":"1.0","id":""}`)
	sqlExec(t, url, "SELECT pg_notify($1, $2)", ch, `{"specversion":"1.0","id":"ok","source":"/s","type":"t"}`)
	connectortest.Eventually(t, 10*time.Second, func() bool { return col.Count() == 2 }, "stored %d of 2", col.Count())
	if got := col.Events(); got[0].Type() != "com.example.raw" || string(got[0].Data()) != "plain text" || got[1].ID() != "ok" {
		t.Fatalf("stored %v", got)
	}
	if n := count(t, url, "SELECT count(*) FROM "+dlq); n != 1 {
		t.Fatalf("%d dead letters", n)
	}
	if os.Getenv("EVENTBRIDGE_INTEGRATION") != "1" {
		return
	}
	restartPostgres(t)
	// What is notified before the source listens again is lost
	// (at-most-once while disconnected): notify until one arrives.
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; col.Count() < 3; i++ {
		if time.Now().After(deadline) {
			t.Fatalf("nothing received after the restart; health %+v", src.Health())
		}
		sqlExec(t, url, "SELECT pg_notify($1, $2)", ch, fmt.Sprintf(`{"specversion":"1.0","id":"after-%d","source":"/s","type":"t"}`, i))
		time.Sleep(200 * time.Millisecond)
	}
	if src.Health().Detail["connected"] != true {
		t.Fatalf("health after the restart: %+v", src.Health())
	}
}
