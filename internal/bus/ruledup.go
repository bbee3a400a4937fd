package bus

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// RuleDedupBucketName is the KV bucket of the rules' dedup keys (a rule's
// `dedup:`): one entry per (rule, target, key) seen inside the rule's
// window, shared by every bridge on the bus.
const RuleDedupBucketName = "ruledup"

// DefaultRuleDedupMaxKeys bounds the ruledup bucket when
// RuleDedupOptions.MaxKeys is zero.
const DefaultRuleDedupMaxKeys = 1_000_000

// RuleDedupOptions size the ruledup bucket.
type RuleDedupOptions struct {
	// MaxAge drops an entry this long after it was written: the longest
	// window of the rules (at least 1s).
	MaxAge time.Duration
	// MaxKeys bounds the entries; beyond it the oldest are dropped first
	// (0: DefaultRuleDedupMaxKeys).
	MaxKeys int64
}

// RuleDedup is the ruledup bucket: a KV bucket (Get, Create, Update of KV)
// whose entries expire after MaxAge and whose oldest entries are dropped
// when it holds MaxKeys, rather than refusing writes. It needs nothing of
// NATS newer than 2.9 (no per-message TTL). Safe for concurrent use.
type RuleDedup struct {
	*KV
}

// RuleDedup creates the ruledup bucket, or updates its limits, and returns
// it.
func (b *Bus) RuleDedup(ctx context.Context, o RuleDedupOptions) (*RuleDedup, error) {
	maxAge := max(o.MaxAge, time.Second)
	maxKeys := o.MaxKeys
	if maxKeys <= 0 {
		maxKeys = DefaultRuleDedupMaxKeys
	}
	bucket := b.n.bucket(RuleDedupBucketName)
	// The stream is made here rather than by CreateOrUpdateKeyValue to
	// drop the oldest entries when full (a KV bucket refuses writes then,
	// which would stop the rules' deliveries).
	sc := jetstream.StreamConfig{
		Name:              stateStream(bucket), // KV_<bucket>, as for every bucket
		Description:       "eventbridge rules' dedup keys: one entry per rule, target and key inside the rule's window",
		Subjects:          []string{stateSubject(bucket) + ">"},
		MaxMsgsPerSubject: 1,
		MaxMsgs:           maxKeys,
		MaxAge:            maxAge,
		MaxConsumers:      -1,
		Storage:           jetstream.FileStorage,
		Replicas:          max(b.cfg.Replicas, 1),
		Placement:         b.placement(),
		AllowRollup:       true,
		DenyDelete:        true,
		AllowDirect:       true,
		Duplicates:        min(2*time.Minute, maxAge),
		Discard:           jetstream.DiscardOld,
	}
	var kv jetstream.KeyValue
	err := b.untilUp(ctx, "bucket "+bucket, func(ctx context.Context) (err error) {
		if _, err = b.js.CreateOrUpdateStream(ctx, sc); err != nil {
			return err
		}
		kv, err = b.js.KeyValue(ctx, bucket)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("bus: bucket %s: %w", RuleDedupBucketName, natsErr(err))
	}
	return &RuleDedup{KV: wrapKV(kv)}, nil
}

// RetryMaxAge is the RETRY stream's max age as the bus found it when it
// opened (0: messages are kept until taken). A delivery held in RETRY
// longer than this would be lost, so delays must stay below it.
func (b *Bus) RetryMaxAge() time.Duration { return b.retryMaxAge }
