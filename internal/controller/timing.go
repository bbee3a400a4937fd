package controller

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
	"github.com/eventbridge-dev/eventbridge/internal/delivery"
	"github.com/eventbridge-dev/eventbridge/internal/eventkey"
	"github.com/eventbridge-dev/eventbridge/internal/resource"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

// ruleDedup is the bus's ruledup bucket as the controller opened it.
type ruleDedup struct {
	bucket *bus.RuleDedup // nil until a rule has dedup
	maxAge time.Duration  // the longest window it was sized for
	err    error          // why the last sizing failed
}

// sizeRuleDedup opens the ruledup bucket, or changes its max age, for the
// longest dedup window of rules, before any route uses it: the bucket
// drops entries older than its max age, so it must not be sized for one
// rule while another has a longer window. Rules without dedup leave it as
// it is.
func (c *Controller) sizeRuleDedup(ctx context.Context, rules []*resource.Object) {
	var longest time.Duration
	for _, o := range rules {
		if !bytes.Contains(o.Spec, []byte(`"dedup"`)) {
			continue // most rules: no decoding at every reconcile
		}
		var s struct {
			Dedup *struct {
				Window spec.Duration `json:"window"`
			} `json:"dedup"`
		}
		if json.Unmarshal(o.Spec, &s) == nil && s.Dedup != nil {
			longest = max(longest, s.Dedup.Window.D())
		}
	}
	longest = min(longest, resource.MaxDedupWindow)
	if longest <= 0 || c.dedup.bucket != nil && c.dedup.maxAge == longest {
		return
	}
	b, err := c.cfg.Bus.RuleDedup(ctx, bus.RuleDedupOptions{MaxAge: longest})
	if err != nil {
		c.dedup.err = err
		c.cfg.Log.Error("cannot open the rules' dedup bucket; rules with dedup fail", "err", err)
		return
	}
	c.dedup = ruleDedup{bucket: b, maxAge: longest}
}

// ruleTiming is the delivery.Timing of the rule s: its delay, max_delay
// (no longer than RETRY keeps messages) and dedup.
func (c *Controller) ruleTiming(s *resource.Rule) (delivery.Timing, error) {
	tm := delivery.Timing{Delay: s.Delay.D(), MaxDelay: s.MaxDelay.D()}
	if err := delivery.CheckHorizon(tm.MaxDelay, c.cfg.Bus.RetryMaxAge()); err != nil {
		return tm, err
	}
	if d := s.Dedup; d != nil {
		key, err := eventkey.Compile(d.Key)
		if err != nil {
			return tm, fmt.Errorf("dedup.key: %w", err)
		}
		if c.dedup.bucket == nil || c.dedup.maxAge < d.Window.D() {
			return tm, fmt.Errorf("dedup: the %s bucket is not open: %v", bus.RuleDedupBucketName, c.dedup.err)
		}
		tm.Dedup = &delivery.Dedup{Key: key, Window: d.Window.D(), Bucket: c.dedup.bucket}
	}
	return tm, nil
}
