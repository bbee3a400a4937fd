package bus

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

// bus.placement reaches every stream and bucket the bridge makes, and a
// placement no server can take keeps the bridge from starting, with the
// server's reason.
func TestPlacement(t *testing.T) {
	if testing.Short() {
		t.Skip("a 3-node cluster")
	}
	c := newTestCluster(t)
	for i, o := range c.opts {
		o.Tags = []string{"disk:ssd", fmt.Sprintf("node:%d", i)}
	}
	for i := range c.opts {
		c.start(i)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	b := openOn(t, Config{URL: c.url(), Prefix: "placed", Placement: &Placement{Cluster: "eb", Tags: []string{"disk:ssd"}}})
	if _, err := b.KV(ctx, DesiredStateBucket); err != nil {
		t.Fatal(err)
	}
	if _, err := b.RuleDedup(ctx, RuleDedupOptions{MaxAge: time.Minute}); err != nil {
		t.Fatal(err)
	}
	js := b.JetStream()
	n := 0
	for name := range js.StreamNames(ctx).Name() {
		if !strings.Contains(name, "placed") {
			continue
		}
		s, err := js.Stream(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		n++
		if p := s.CachedInfo().Config.Placement; p == nil || p.Cluster != "eb" || !slices.Equal(p.Tags, []string{"disk:ssd"}) {
			t.Errorf("%s: placement %+v", name, p)
		}
	}
	if n < 6 { // EVENTS, WORK, RETRY, DLQ, config, ruledup
		t.Errorf("%d streams checked", n)
	}

	cfg := Config{URL: c.url(), Prefix: "nowhere", Placement: &Placement{Tags: []string{"disk:tape"}}, StartTimeout: spec.Duration(time.Second)}
	cfg.Defaults()
	if b, err := Open(ctx, cfg, nil); err == nil {
		b.Close()
		t.Fatal("a placement no server has was taken")
	} else if !strings.Contains(err.Error(), "EVENTS") {
		t.Errorf("the error does not name the stream: %v", err)
	} else {
		t.Logf("refused: %v", err)
	}
}

func TestPlacementNeedsACluster(t *testing.T) {
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{Placement: &Placement{Tags: []string{"a"}}}, "placement: needs an external cluster"},
		{Config{URL: "nats://127.0.0.1:1", Placement: &Placement{}}, "placement: give a cluster, tags or both"},
		{Config{URL: "nats://127.0.0.1:1", Placement: &Placement{Tags: []string{" "}}}, "placement.tags[0]: must not be empty"},
	} {
		c.cfg.Defaults()
		p := spec.NewProblems("")
		c.cfg.Validate(p)
		if err := p.Err(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: got %v, want %q", c.cfg.Placement, err, c.want)
		}
	}
}
