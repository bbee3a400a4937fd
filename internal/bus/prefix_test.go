package bus

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats-server/v2/server"
)

// runNATS starts a JetStream server on a free loopback port, shut down
// when the test ends.
func runNATS(t *testing.T) *server.Server {
	t.Helper()
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoSigs: true, NoLog: true})
	if err != nil {
		t.Fatal(err)
	}
	srv.Start()
	t.Cleanup(srv.Shutdown)
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	return srv
}

// Three deployments share one NATS account: two with prefixes, one
// without (the names of releases before bus.prefix). None sees the
// others' events, dead letters, buckets or job runs.
func TestPrefixesIsolateDeployments(t *testing.T) {
	srv := runNATS(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	buses := map[string]*Bus{}
	for _, p := range []string{"blue", "green", ""} {
		buses[p] = openOn(t, Config{URL: srv.ClientURL(), Prefix: p})
	}
	for p, b := range buses {
		ev := ce.New()
		ev.SetID("same-id") // the same key in every deployment: none is a duplicate of another's
		ev.SetSource("test")
		ev.SetType("t." + p)
		if dups, err := b.Publish(ctx, "in", []*ce.Event{&ev}); err != nil || dups != 0 {
			t.Fatalf("%q: publish: %d dups, %v", p, dups, err)
		}
		if err := b.PutDeadLetter(ctx, &DeadLetter{Delivery: Delivery{Rule: "r" + p, Target: "x", Event: []byte(`{}`)}, Reason: "test"}); err != nil {
			t.Fatalf("%q: dead letter: %v", p, err)
		}
		kv, err := b.KV(ctx, DesiredStateBucket)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := kv.Put(ctx, "rules.r"+p, []byte(p)); err != nil {
			t.Fatal(err)
		}
		// The buckets that are not made through KV are prefixed too.
		if _, err := b.RuleDedup(ctx, RuleDedupOptions{MaxAge: time.Minute}); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Operations(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for p, b := range buses {
		var types []string
		err := b.Archive().Scan(ctx, Scan{}, func(a *Archived) error {
			e, err := DecodeEvent(a.Data)
			if err != nil {
				return err
			}
			types = append(types, e.Type())
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(types, []string{"t." + p}) {
			t.Errorf("%q: the archive holds %v", p, types)
		}
		// The router's queue, through the bus's own consumer.
		w := b.Work()
		if err := w.Open(ctx, WorkOptions{MaxAckPending: 10}); err != nil {
			t.Fatal(err)
		}
		if st, err := b.ConsumerStats(ctx, StreamWork, WorkConsumer); err != nil || st.Pending != 1 {
			t.Errorf("%q: WORK consumer: %+v, %v; want 1 pending", p, st, err)
		}
		counts, err := b.DeadLetters().Counts(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		if want := map[string]uint64{DLQSubject("r"+p, "x"): 1}; len(counts) != 1 || counts[DLQSubject("r"+p, "x")] != 1 {
			t.Errorf("%q: dead letters %v, want %v", p, counts, want)
		}
		l, err := b.DeadLetters().Next(ctx, "r"+p, "", 1)
		if err != nil {
			t.Fatalf("%q: first dead letter: %v", p, err)
		}
		if _, err := b.DeadLetters().Get(ctx, "r"+p, l.Seq); err != nil {
			t.Errorf("%q: dead letter %d: %v", p, l.Seq, err)
		}
		for other := range buses {
			if other == p {
				continue
			}
			if _, err := b.DeadLetters().Next(ctx, "r"+other, "", 1); !errors.Is(err, ErrNoLetter) {
				t.Errorf("%q sees a dead letter of %q: %v", p, other, err)
			}
		}
		kv, err := b.KV(ctx, DesiredStateBucket)
		if err != nil {
			t.Fatal(err)
		}
		if keys, err := kv.Keys(ctx); err != nil || !slices.Equal(keys, []string{"rules.r" + p}) {
			t.Errorf("%q: config bucket keys %v, %v", p, keys, err)
		}
	}

	// The server's names: the prefix on every stream and bucket, none on
	// the deployment without one.
	js := buses[""].JetStream()
	var got []string
	for name := range js.StreamNames(ctx).Name() {
		got = append(got, name)
	}
	slices.Sort(got)
	want := []string{"DLQ", "EVENTS", "KV_blue_config", "KV_blue_operations", "KV_blue_ruledup", "KV_config",
		"KV_green_config", "KV_green_operations", "KV_green_ruledup", "KV_operations", "KV_ruledup", "RETRY", "WORK",
		"blue_DLQ", "blue_EVENTS", "blue_RETRY", "blue_WORK", "green_DLQ", "green_EVENTS", "green_RETRY", "green_WORK"}
	if !slices.Equal(got, want) {
		t.Errorf("streams on the server:\n got %v\nwant %v", got, want)
	}
	s, err := js.Stream(ctx, "blue_EVENTS")
	if err != nil {
		t.Fatal(err)
	}
	if subj := s.CachedInfo().Config.Subjects; !slices.Equal(subj, []string{"blue.events.>"}) {
		t.Errorf("blue_EVENTS subjects %v", subj)
	}
	if _, err := s.GetLastMsgForSubject(ctx, "blue.events.in.t%2Eblue"); err != nil {
		t.Errorf("blue's event on its subject: %v", err)
	}

	// A job run asked of one deployment is not answered by another's
	// holder.
	stop, err := buses["green"].ServeJobRuns(func(string) bool { return true })
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	rctx, rcancel := context.WithTimeout(ctx, time.Second)
	defer rcancel()
	if ok, err := buses["blue"].RequestJobRun(rctx, "j"); ok || err == nil {
		t.Errorf("blue's job run answered by green: %v, %v", ok, err)
	}
	if ok, err := buses["green"].RequestJobRun(ctx, "j"); !ok || err != nil {
		t.Errorf("green's job run: %v, %v", ok, err)
	}
}

func TestValidPrefix(t *testing.T) {
	for p, ok := range map[string]bool{
		"": true, "blue": true, "prod-eu_1": true, "A9": true,
		"a.b": false, "a*": false, ">": false, "-a": false, "_a": false, "a b": false, "é": false,
		"events": false, "WORK": false, "dlq": false, "eventbridge": false, "KV": false,
		"abcdefghijklmnopqrstuvwxyz0123456": false, "abcdefghijklmnopqrstuvwxyz012345": true,
	} {
		if err := ValidPrefix(p); (err == nil) != ok {
			t.Errorf("ValidPrefix(%q) = %v, want ok=%v", p, err, ok)
		}
	}
}
