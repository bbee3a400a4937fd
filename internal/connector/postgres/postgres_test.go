package postgres_test

import (
	"context"
	"fmt"
	"github.com/eventbridge-dev/eventbridge/internal/testkit"
	"hash/fnv"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.uber.org/goleak"

	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
	_ "github.com/eventbridge-dev/eventbridge/internal/connector/postgres"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// dbURL is the machine's PostgreSQL, or skips (fails under
// EVENTBRIDGE_INTEGRATION=1) when it does not answer. There is no
// embedded PostgreSQL, so every test here needs it.
func dbURL(t testing.TB) string {
	t.Helper()
	testkit.LockService(t, "postgres") // other packages restart it
	url := os.Getenv("EVENTBRIDGE_POSTGRES_URL")
	if url == "" {
		url = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		testkit.Missing(t, "no postgres at %s: %v", url, err)
	}
	c.Close(ctx)
	return url
}

// name turns a channel of the suite into a short identifier (PostgreSQL
// cuts names at 63 bytes, which would drop the unique suffix).
func name(ch string) string {
	h := fnv.New64a()
	h.Write([]byte(ch))
	return fmt.Sprintf("eb_%x", h.Sum64())
}

// sqlExec runs SQL on the test database.
func sqlExec(t testing.TB, url, sql string, args ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// dropLater drops a table when the test ends.
func dropLater(t testing.TB, url, table string) {
	t.Cleanup(func() { sqlExec(t, url, "DROP TABLE IF EXISTS "+pgx.Identifier{table}.Sanitize()) })
}

// restartPostgres restarts the machine's cluster and leaves it running.
// Only under EVENTBRIDGE_INTEGRATION=1: it disturbs everyone using it.
func restartPostgres(t testing.TB) {
	t.Helper()
	ver, err := os.ReadDir("/etc/postgresql")
	if err != nil || len(ver) == 0 {
		t.Fatalf("no cluster in /etc/postgresql: %v", err)
	}
	out, err := exec.Command("pg_ctlcluster", "--skip-systemctl-redirect", ver[0].Name(), "main", "restart").CombinedOutput()
	if err != nil {
		t.Fatalf("pg_ctlcluster restart: %v\n%s", err, out)
	}
	url := dbURL(t)
	connectortest.Eventually(t, 60*time.Second, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, url)
		if err == nil {
			c.Close(ctx)
		}
		return err == nil
	}, "postgres did not come back")
}

// TestIntegrationConformance runs the suite against the machine's
// PostgreSQL: the target inserts into a table that the source reads as
// its outbox; and the target NOTIFYs a channel that the source LISTENs to.
func TestIntegrationConformance(t *testing.T) {
	url := dbURL(t)
	var restart func(testing.TB)
	if os.Getenv("EVENTBRIDGE_INTEGRATION") == "1" && strings.Contains(url, "127.0.0.1:5432") {
		restart = restartPostgres
	}
	t.Run("Outbox", func(t *testing.T) {
		connectortest.Run(t, connectortest.Harness{
			Features:   connectortest.Features{Modes: []string{"insert"}, Persistent: true, Ordered: true},
			SourceType: "postgres", TargetType: "postgres",
			Source: func(t testing.TB, ch string) string {
				dropLater(t, url, name(ch))
				sqlExec(t, url, createTableSQL(name(ch)))
				return fmt.Sprintf(`{"type":"postgres","url":%q,"table":%q,"batch":500,"poll_interval":"50ms"}`, url, name(ch))
			},
			Target: func(t testing.TB, ch, mode string) string {
				return fmt.Sprintf(`{"type":"postgres","url":%q,"table":%q,"create_table":true}`, url, name(ch))
			},
			RestartBroker: restart,
		})
	})
	t.Run("ListenNotify", func(t *testing.T) {
		connectortest.Run(t, connectortest.Harness{
			// NOTIFY payloads hold at most 8000 bytes of JSON, base64 data included.
			Features:   connectortest.Features{Modes: []string{"notify"}, Persistent: true, Ordered: true, MaxData: 7000},
			SourceType: "postgres", TargetType: "postgres",
			Source: func(t testing.TB, ch string) string {
				return fmt.Sprintf(`{"type":"postgres","url":%q,"channel":%q}`, url, name(ch))
			},
			Target: func(t testing.TB, ch, mode string) string {
				return fmt.Sprintf(`{"type":"postgres","url":%q,"channel":%q}`, url, name(ch))
			},
		})
	})
}

// createTableSQL is the DDL that create_table runs, so that a source can
// start before its target.
func createTableSQL(table string) string {
	return fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s (
  seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE, id text NOT NULL, source text NOT NULL, type text NOT NULL,
  time timestamptz, subject text, attributes jsonb NOT NULL DEFAULT '{}', data bytea, datacontenttype text,
  PRIMARY KEY (source, id))`, pgx.Identifier{table}.Sanitize())
}
