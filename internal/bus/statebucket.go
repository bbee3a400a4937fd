package bus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// StateBucketName is the KV bucket of the current state (internal/state):
// the last event per key, fed from EVENTS.
const StateBucketName = "state"

// stateStream and stateSubject are a KV bucket's stream and the prefix of
// its subjects, for the bucket's name on the server (the state and
// ruledup buckets make their streams themselves).
func stateStream(bucket string) string  { return "KV_" + bucket }
func stateSubject(bucket string) string { return "$KV." + bucket + "." }

// StateBucketOptions size the state bucket.
type StateBucketOptions struct {
	// MaxBytes and MaxAge bound the bucket; when full, the oldest entries
	// are dropped.
	MaxBytes int64
	MaxAge   time.Duration
	// MaxValueSize is the largest value it takes.
	MaxValueSize int32
	// Replicas of the bucket (0: 1).
	Replicas int
}

// StateBucket is the state bucket: a KV bucket (Get, Put, Delete, Watch,
// List of KV) whose oldest entries are dropped when it is full, with the
// conditional and pipelined writes of the state feed. Safe for concurrent
// use.
type StateBucket struct {
	*KV
	js     jetstream.JetStream
	stream jetstream.Stream
	subj   string // stateSubject of the bucket
}

// StateBucket creates the state bucket, or updates its limits, and returns
// it.
func (b *Bus) StateBucket(ctx context.Context, o StateBucketOptions) (*StateBucket, error) {
	dup := min(2*time.Minute, o.MaxAge)
	bucket := b.n.bucket(StateBucketName)
	// The bucket's stream is made here rather than by
	// CreateOrUpdateKeyValue to discard the oldest entries when full (a KV
	// bucket refuses new writes instead).
	sc := jetstream.StreamConfig{
		Name:              stateStream(bucket),
		Description:       "eventbridge current state: the last event per key",
		Subjects:          []string{stateSubject(bucket) + ">"},
		MaxMsgsPerSubject: 1,
		MaxBytes:          o.MaxBytes,
		MaxAge:            o.MaxAge,
		MaxMsgSize:        o.MaxValueSize,
		MaxMsgs:           -1,
		MaxConsumers:      -1,
		Storage:           jetstream.FileStorage,
		Replicas:          max(o.Replicas, 1),
		Placement:         b.placement(),
		AllowRollup:       true,
		DenyDelete:        true,
		AllowDirect:       true,
		Duplicates:        dup,
		Discard:           jetstream.DiscardOld,
	}
	var stream jetstream.Stream
	var kv jetstream.KeyValue
	err := b.untilUp(ctx, "bucket "+bucket, func(ctx context.Context) (err error) {
		if stream, err = b.js.CreateOrUpdateStream(ctx, sc); err != nil {
			return err
		}
		kv, err = b.js.KeyValue(ctx, bucket)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("bus: bucket %s: %w", StateBucketName, natsErr(err))
	}
	return &StateBucket{KV: wrapKV(kv), js: b.js, stream: stream, subj: stateSubject(bucket)}, nil
}

// Last is the last write of a key, a value or a delete.
type Last struct {
	// Revision is the write's revision (0: the key was never written, or
	// its entry was dropped).
	Revision uint64
	// Deleted is true when the last write deleted the key.
	Deleted bool
	// Value is the value written (nil for a delete).
	Value []byte
}

// Last reads the last write of key, a delete included.
func (s *StateBucket) Last(ctx context.Context, key string) (Last, error) {
	m, err := s.stream.GetLastMsgForSubject(ctx, s.subj+key)
	if err != nil {
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return Last{}, nil
		}
		return Last{}, s.err("last", key, err)
	}
	if m.Header.Get("KV-Operation") != "" { // a DEL or PURGE marker
		return Last{Revision: m.Sequence, Deleted: true}, nil
	}
	return Last{Revision: m.Sequence, Value: m.Data}, nil
}

// Write writes value under key only if ifRevision is the revision of the
// key's last write (a delete counts; 0: never written), and returns the
// new revision; ErrRevisionMismatch when the key changed since.
func (s *StateBucket) Write(ctx context.Context, key string, value []byte, ifRevision uint64) (uint64, error) {
	ack, err := s.js.Publish(ctx, s.subj+key, value, jetstream.WithExpectLastSequencePerSubject(ifRevision))
	if err != nil {
		return 0, s.err("write", key, err)
	}
	return ack.Sequence, nil
}

// PendingWrite is a write of WriteAsync waiting for the bus's answer.
type PendingWrite struct{ f jetstream.PubAckFuture }

// WriteAsync is Write without waiting for the answer: writes are
// pipelined. Wait for each with PendingWrite.Wait.
func (s *StateBucket) WriteAsync(key string, value []byte, ifRevision uint64) (PendingWrite, error) {
	f, err := s.js.PublishAsync(s.subj+key, value, jetstream.WithExpectLastSequencePerSubject(ifRevision))
	if err != nil {
		return PendingWrite{}, s.err("write", key, err)
	}
	return PendingWrite{f: f}, nil
}

// Wait waits for the answer to the write and returns its revision, or why
// it failed (ErrRevisionMismatch when the key changed), or ctx's error
// when ctx ends first (the write may still be stored).
func (p PendingWrite) Wait(ctx context.Context) (uint64, error) {
	select {
	case ack := <-p.f.Ok():
		return ack.Sequence, nil
	case err := <-p.f.Err():
		if isWrongLastSequence(err) {
			return 0, fmt.Errorf("bus: kv %s: write: %w (%v)", StateBucketName, ErrRevisionMismatch, err)
		}
		return 0, fmt.Errorf("bus: kv %s: write: %v", StateBucketName, err)
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}
