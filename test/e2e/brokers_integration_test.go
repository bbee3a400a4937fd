package e2e

import (
	"bytes"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

// need skips the test (fails it under EVENTBRIDGE_INTEGRATION=1) unless
// the service answers at addr and the client programs are installed.
func need(t *testing.T, addr, service string, programs ...string) {
	t.Helper()
	if testing.Short() {
		t.Skip("integration")
	}
	for _, p := range programs {
		testkit.NeedTool(t, p, debianPackage[p])
	}
	if addr != "" {
		testkit.NeedTCP(t, addr, service)
	}
}

// debianPackage names what installs each client program.
var debianPackage = map[string]string{
	"redis-cli": "Debian package redis-tools",
	"psql":      "Debian package postgresql-client",
	"kcat":      "Debian package kcat",
}

// run runs a client program and returns its output.
func runCmd(t *testing.T, name string, args ...string) string {
	t.Helper()
	var out, stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out.String(), stderr.String())
	}
	return out.String()
}

// eventually runs a client program until its output contains all of want.
func eventually(t *testing.T, p *proc, want []string, name string, args ...string) string {
	t.Helper()
	var out string
	testkit.Eventually(t, 30*time.Second, func() bool {
		out = runCmd(t, name, args...)
		for _, w := range want {
			if !strings.Contains(out, w) {
				return false
			}
		}
		return true
	}, "%s %s never showed %q; last output:\n%s\nbridge log:\n%s", name, strings.Join(args, " "), want, out, p.log())
	return out
}

// TestIntegrationThirdPartyClients: standard command-line clients do the
// talking. Each publishes into a source of a running bridge and reads
// what the bridge's target wrote, checking that the event arrived intact.
func TestIntegrationBrokerClients(t *testing.T) {
	n := time.Now().UnixNano() % 1e9

	t.Run("redis-cli", func(t *testing.T) {
		need(t, "127.0.0.1:6379", "Redis", "redis-cli")
		in, out, ch := fmt.Sprintf("ebe2e-in-%d", n), fmt.Sprintf("ebe2e-out-%d", n), fmt.Sprintf("ebe2e-ch-%d", n)
		addr := freeAddr(t)
		p := start(t, writeConfig(t, addr, fmt.Sprintf(`
sources:
  rin: {type: redis, url: "redis://127.0.0.1:6379/0", stream: %q}
  rch: {type: redis, url: "redis://127.0.0.1:6379/0", channel: %q}
targets:
  rout: {type: redis, url: "redis://127.0.0.1:6379/0", stream: %q, mode: binary}
rules:
  pass: {sources: [rin, rch], targets: [rout]}
`, in, ch, out)), addr)
		t.Cleanup(func() { _ = exec.Command("redis-cli", "DEL", in, out).Run() })
		runCmd(t, "redis-cli", "XADD", in, "*", "specversion", "1.0", "id", "cli-1", "source", "/redis-cli", "type", "com.example.cli",
			"subject", "café €", "region", "eu", "datacontenttype", "application/json", "data", `{"n":1}`)
		runCmd(t, "redis-cli", "PUBLISH", ch, `{"specversion":"1.0","id":"cli-2","source":"/redis-cli","type":"com.example.cli","data":{"n":2}}`)
		got := eventually(t, p, []string{"cli-1", "cli-2"}, "redis-cli", "--no-raw", "XRANGE", out, "-", "+")
		for _, w := range []string{`"subject"`, `"caf\xc3\xa9 \xe2\x82\xac"`, `"region"`, `"eu"`, `"{\"n\":1}"`, `"{\"n\":2}"`, `"com.example.cli"`} {
			if !strings.Contains(got, w) {
				t.Errorf("output stream lacks %s:\n%s", w, got)
			}
		}
	})

	t.Run("psql", func(t *testing.T) {
		testkit.LockService(t, "postgres") // the postgres connector tests restart it
		need(t, "127.0.0.1:5432", "PostgreSQL", "psql")
		in, out, ch := fmt.Sprintf("ebe2e_in_%d", n), fmt.Sprintf("ebe2e_out_%d", n), fmt.Sprintf("ebe2e_ch_%d", n)
		psql := func(sql string) string {
			return runCmd(t, "psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-v", "ON_ERROR_STOP=1", "-At", "-c", sql)
		}
		psql(fmt.Sprintf(`CREATE TABLE %s (seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE, id text NOT NULL, source text NOT NULL,
  type text NOT NULL, time timestamptz, subject text, attributes jsonb NOT NULL DEFAULT '{}', data bytea, datacontenttype text,
  PRIMARY KEY (source, id))`, in))
		t.Cleanup(func() {
			_ = exec.Command("psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-c", "DROP TABLE IF EXISTS "+in+", "+out).Run()
		})
		url := "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
		addr := freeAddr(t)
		p := start(t, writeConfig(t, addr, fmt.Sprintf(`
sources:
  pin: {type: postgres, url: %q, table: %q}
  pch: {type: postgres, url: %q, channel: %q}
targets:
  pout: {type: postgres, url: %q, table: %q, create_table: true}
rules:
  pass: {sources: [pin, pch], targets: [pout]}
`, url, in, url, ch, url, out)), addr)
		psql(fmt.Sprintf(`INSERT INTO %s (id, source, type, time, subject, attributes, data, datacontenttype)
VALUES ('psql-1', '/psql', 'com.example.cli', '2026-11-22T10:00:00Z', 'café €', '{"region":"eu","count":3}', convert_to('{"n":1}', 'UTF8'), 'application/json')`, in))
		psql(fmt.Sprintf(`SELECT pg_notify('%s', '{"specversion":"1.0","id":"psql-2","source":"/psql","type":"com.example.cli","data":{"n":2}}')`, ch))
		got := eventually(t, p, []string{"psql-1", "psql-2"}, "psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-At", "-c",
			fmt.Sprintf(`SELECT id, subject, attributes->>'region', attributes->>'count', convert_from(data, 'UTF8'), time FROM %s ORDER BY id`, out))
		for _, w := range []string{"psql-1|café €|eu|3|{\"n\":1}|2026-11-22 10:00:00+00", `psql-2||||{"n":2}|`} {
			if !strings.Contains(got, w) {
				t.Errorf("target table lacks %q:\n%s", w, got)
			}
		}
		if left := psql("SELECT count(*) FROM " + in); strings.TrimSpace(left) != "0" {
			t.Errorf("%s rows left in the outbox", left)
		}
	})

	t.Run("kcat", func(t *testing.T) {
		need(t, "", "", "kcat")
		// No Kafka server on this machine: kfake, in this process, on a
		// real port; the bridge and kcat reach it over TCP.
		c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation(), kfake.DefaultNumPartitions(1))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		broker := c.ListenAddrs()[0]
		in, out := fmt.Sprintf("ebe2e-in-%d", n), fmt.Sprintf("ebe2e-out-%d", n)
		for _, tp := range []string{in, out} {
			if err := c.CreateTopic(tp, 1, nil); err != nil {
				t.Fatal(err)
			}
		}
		addr := freeAddr(t)
		p := start(t, writeConfig(t, addr, fmt.Sprintf(`
sources:
  kin: {type: kafka, brokers: [%q], topics: [%q]}
targets:
  kout: {type: kafka, brokers: [%q], topic: %q, mode: binary}
rules:
  pass: {sources: [kin], targets: [kout]}
`, broker, in, broker, out)), addr)
		prod := exec.Command("kcat", "-P", "-b", broker, "-t", in, "-k", "key-1",
			"-H", "ce_specversion=1.0", "-H", "ce_id=kcat-1", "-H", "ce_source=/kcat", "-H", "ce_type=com.example.cli",
			"-H", "ce_subject=café €", "-H", "ce_partitionkey=key-1", "-H", "content-type=application/json")
		prod.Stdin = strings.NewReader(`{"n":1}`)
		if o, err := prod.CombinedOutput(); err != nil {
			t.Fatalf("kcat -P: %v\n%s", err, o)
		}
		got := eventually(t, p, []string{"kcat-1"}, "kcat", "-C", "-b", broker, "-t", out, "-o", "beginning", "-e", "-q", "-f", "%k|%h|%s\n")
		for _, w := range []string{"key-1|", "ce_id=kcat-1", "ce_subject=café €", "ce_partitionkey=key-1", "content-type=application/json", `|{"n":1}`} {
			if !strings.Contains(got, w) {
				t.Errorf("output topic lacks %q:\n%s", w, got)
			}
		}
	})
}
