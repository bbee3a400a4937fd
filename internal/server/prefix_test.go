package server_test

import (
	"context"
	"slices"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
	"github.com/eventbridge-dev/eventbridge/internal/server"
	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

// Two bridges with different bus.prefix on one NATS server: each routes
// and dead-letters only its own events, and keeps its own rules.
func TestTwoPrefixesOnOneNATS(t *testing.T) {
	srv, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoSigs: true, NoLog: true})
	if err != nil {
		t.Fatal(err)
	}
	srv.Start()
	t.Cleanup(srv.Shutdown)
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	sink := testkit.NewSink(t)
	sink.SetStatus(func(int64) int { return 400 }) // permanent: dead-lettered at once
	bridges := map[string]*server.Bridge{}
	for _, p := range []string{"blue", "green"} {
		bridges[p] = startBridge(t, yamlf(`
bus: {url: %q, prefix: %s}
sources: {in: {type: http, path: /events}}
targets: {out: {type: http, url: %q}}
rules: {r-%s: {targets: [out]}}
`, srv.ClientURL(), p, sink.URL, p))
		mustSend(t, bridges[p], p+"-1")
	}
	testkit.Eventually(t, 30*time.Second, func() bool { return sink.Attempts() >= 2 }, "the sink got %d attempts, want 2", sink.Attempts())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for p, b := range bridges {
		var dlq map[string]uint64
		testkit.Eventually(t, 30*time.Second, func() bool {
			dlq, err = b.Bus().DeadLetters().Counts(ctx, "")
			return err == nil && len(dlq) > 0
		}, "%s: no dead letters: %v", p, err)
		if want := bus.DLQSubject("r-"+p, "out"); len(dlq) != 1 || dlq[want] != 1 {
			t.Errorf("%s: dead letters %v, want one on %s", p, dlq, want)
		}
		var ids []string
		if err := b.Bus().Archive().Scan(ctx, bus.Scan{}, func(a *bus.Archived) error {
			e, err := bus.DecodeEvent(a.Data)
			if err == nil {
				ids = append(ids, e.ID())
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ids, []string{p + "-1"}) {
			t.Errorf("%s: the archive holds %v", p, ids)
		}
		kv, err := b.Bus().KV(ctx, bus.DesiredStateBucket)
		if err != nil {
			t.Fatal(err)
		}
		keys, err := kv.Keys(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			for other := range bridges {
				if other != p && lastToken(k) == "r-"+other {
					t.Errorf("%s: the config bucket holds %s", p, k)
				}
			}
		}
		if !slices.ContainsFunc(keys, func(k string) bool { return lastToken(k) == "r-"+p }) {
			t.Errorf("%s: its rule is not in its config bucket: %v", p, keys)
		}
	}
	testkit.Never(t, 300*time.Millisecond, func() bool { return sink.Attempts() > 2 }, "an event was delivered by both bridges")
}

func lastToken(key string) string {
	for i := len(key) - 1; i >= 0; i-- {
		if key[i] == '.' {
			return key[i+1:]
		}
	}
	return key
}
