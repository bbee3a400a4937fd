package bus

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// The KV buckets of the bridge (docs/architecture.md, "Streams and
// buckets"). The bus owns their names and settings; packages open them
// with Bus.KV and see only the types of this file.
var (
	// DesiredStateBucket ("config") holds the resources the bridge should
	// run (internal/desired).
	DesiredStateBucket = Bucket{
		Name:        "config",
		Description: "eventbridge desired state: sources, targets, rules, subscriptions",
		History:     5,
	}
	// JobsBucket ("jobs") holds the jobs' state: the status of each
	// job's last run, paused flags, what sources keep between runs, and
	// the gRPC broker's specs (internal/jobs).
	JobsBucket = Bucket{
		Name:        "jobs",
		Description: "eventbridge jobs: last runs, paused flags, sources' state between runs",
		History:     1,
	}
	// EventTypesBucket ("eventtypes") holds the event types seen, with
	// their inferred schemas (internal/eventtypes).
	EventTypesBucket = Bucket{
		Name:        "eventtypes",
		Description: "event types seen, with inferred schemas",
	}
	// OperationsBucket ("operations") holds the long operations of the
	// API (replays, redrives): their state, progress and checkpoint, so
	// that any replica reports them and one continues them when their
	// owner is gone (internal/operations).
	OperationsBucket = Bucket{
		Name:        "operations",
		Description: "eventbridge operations: replays and redrives with their progress and checkpoint",
		History:     1,
	}
)

// LeasesBucketName is the bucket of Leases: one key per lease.
const LeasesBucketName = "leases"

// LeasesBucket is the bucket of leases whose TTL is ttl (jobs.lease_ttl):
// a lease not renewed within it vanishes.
func LeasesBucket(ttl time.Duration) Bucket {
	return Bucket{
		Name:        LeasesBucketName,
		Description: "eventbridge leases: which instance runs each job",
		History:     1,
		TTL:         ttl,
	}
}

// Bucket describes a KV bucket. Its replicas are the bus's (bus.replicas)
// and it is stored on file.
type Bucket struct {
	Name        string
	Description string
	// History is how many revisions of each key are kept (0: 1).
	History uint8
	// TTL, when set, drops an entry this long after its last write.
	TTL time.Duration
	// MaxBytes bounds the bucket (0: no bound); a full bucket refuses
	// writes.
	MaxBytes int64
}

// Errors of KV operations. Callers check them with errors.Is; nothing of
// the NATS client is wrapped for them to check.
var (
	// ErrKeyNotFound: the key has no value (never written, deleted, or
	// expired).
	ErrKeyNotFound = errors.New("bus: key not found")
	// ErrKeyExists: Create found the key holding a value.
	ErrKeyExists = errors.New("bus: key exists")
	// ErrRevisionMismatch: Update or Delete was given a revision that is
	// not the key's last.
	ErrRevisionMismatch = errors.New("bus: revision mismatch")
)

// Op is what a KV entry records.
type Op uint8

// Operations of entries.
const (
	OpPut    Op = iota // a value
	OpDelete           // the key was deleted
	OpPurge            // the key was purged (or expired)
)

func (o Op) String() string {
	switch o {
	case OpPut:
		return "put"
	case OpDelete:
		return "delete"
	case OpPurge:
		return "purge"
	}
	return fmt.Sprintf("op(%d)", uint8(o))
}

// Entry is one revision of a key.
type Entry struct {
	Key string
	// Value is nil for a delete, and in a meta-only watch.
	Value    []byte
	Revision uint64
	Op       Op
	// Created is when this revision was written.
	Created time.Time
}

// KV is a bucket of the bus. Safe for concurrent use.
type KV struct {
	name string
	kv   jetstream.KeyValue
}

// KV creates the bucket described by bkt, or updates its settings, and
// returns it.
func (b *Bus) KV(ctx context.Context, bkt Bucket) (*KV, error) {
	cfg := jetstream.KeyValueConfig{
		Bucket:      b.n.bucket(bkt.Name),
		Description: bkt.Description,
		History:     max(bkt.History, 1),
		TTL:         bkt.TTL,
		MaxBytes:    max(bkt.MaxBytes, 0),
		Storage:     jetstream.FileStorage,
		Replicas:    max(b.cfg.Replicas, 1),
		Placement:   b.placement(),
	}
	var kv jetstream.KeyValue
	err := b.untilUp(ctx, "bucket "+cfg.Bucket, func(ctx context.Context) (err error) {
		kv, err = b.js.CreateOrUpdateKeyValue(ctx, cfg)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("bus: bucket %s: %w", bkt.Name, natsErr(err))
	}
	return wrapKV(kv), nil
}

// wrapKV is the door to a bucket opened by the bus itself.
func wrapKV(kv jetstream.KeyValue) *KV { return &KV{name: kv.Bucket(), kv: kv} }

// Name is the bucket's name.
func (k *KV) Name() string { return k.name }

// Get reads the last value of key; ErrKeyNotFound when it has none.
func (k *KV) Get(ctx context.Context, key string) (Entry, error) {
	e, err := k.kv.Get(ctx, key)
	if err != nil {
		return Entry{}, k.err("get", key, err)
	}
	return entryOf(e), nil
}

// Put writes value under key, whatever it held, and returns the new
// revision.
func (k *KV) Put(ctx context.Context, key string, value []byte) (uint64, error) {
	rev, err := k.kv.Put(ctx, key, value)
	if err != nil {
		return 0, k.err("put", key, err)
	}
	return rev, nil
}

// Create writes value under key only if the key has no value (it may have
// been deleted); ErrKeyExists otherwise.
func (k *KV) Create(ctx context.Context, key string, value []byte) (uint64, error) {
	rev, err := k.kv.Create(ctx, key, value)
	if err != nil {
		return 0, k.err("create", key, err)
	}
	return rev, nil
}

// Update writes value under key only if ifRevision is the key's last
// revision; ErrRevisionMismatch otherwise (also when the key was deleted
// or expired since).
func (k *KV) Update(ctx context.Context, key string, value []byte, ifRevision uint64) (uint64, error) {
	rev, err := k.kv.Update(ctx, key, value, ifRevision)
	if err != nil {
		return 0, k.err("update", key, err)
	}
	return rev, nil
}

// Delete deletes key (its history is kept). With ifRevision > 0 it
// deletes only that revision: ErrRevisionMismatch when the key changed
// since. Deleting a key without a value is not an error.
func (k *KV) Delete(ctx context.Context, key string, ifRevision uint64) error {
	var opts []jetstream.KVDeleteOpt
	if ifRevision > 0 {
		opts = append(opts, jetstream.LastRevision(ifRevision))
	}
	if err := k.kv.Delete(ctx, key, opts...); err != nil {
		err = k.err("delete", key, err)
		if errors.Is(err, ErrKeyNotFound) {
			return nil
		}
		return err
	}
	return nil
}

// Keys returns the keys that hold a value, sorted.
func (k *KV) Keys(ctx context.Context) ([]string, error) {
	l, err := k.kv.ListKeys(ctx)
	if err != nil {
		return nil, k.err("keys", "", err)
	}
	defer func() { _ = l.Stop() }()
	var out []string
	for key := range l.Keys() {
		out = append(out, key)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sort.Strings(out)
	return out, nil
}

// List returns the last entry of every key matching filter (a subject
// pattern of keys: ">" for all, "a.>" for those under "a.") that holds a
// value, sorted by key.
func (k *KV) List(ctx context.Context, filter string) ([]Entry, error) {
	w, err := k.Watch(ctx, filter, WatchOptions{IgnoreDeletes: true})
	if err != nil {
		return nil, err
	}
	defer func() { _ = w.Stop() }()
	var out []Entry
	for {
		select {
		case e, ok := <-w.Updates():
			if !ok {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
				return nil, fmt.Errorf("bus: kv %s: list: the watch ended early", k.name)
			}
			if e == nil { // the end of the initial values
				sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
				return out, nil
			}
			out = append(out, *e)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// WatchOptions choose what a Watch sends.
type WatchOptions struct {
	// UpdatesOnly skips the current values: only changes made after the
	// watch began are sent, and no nil marks the end of the initial values.
	UpdatesOnly bool
	// MetaOnly sends entries without their values.
	MetaOnly bool
	// IgnoreDeletes skips deletes and purges.
	IgnoreDeletes bool
}

// Watcher sends the entries of a Watch. Stop it when done.
type Watcher struct {
	w    jetstream.KeyWatcher
	out  chan *Entry
	stop chan struct{}
}

// Watch sends the last entry of every key matching filter (a subject
// pattern of keys: ">" for all), then nil, then every change, in order of
// revision. The watch ends (Updates is closed) when ctx ends or Stop is
// called.
func (k *KV) Watch(ctx context.Context, filter string, o WatchOptions) (*Watcher, error) {
	var opts []jetstream.WatchOpt
	if o.UpdatesOnly {
		opts = append(opts, jetstream.UpdatesOnly())
	}
	if o.MetaOnly {
		opts = append(opts, jetstream.MetaOnly())
	}
	if o.IgnoreDeletes {
		opts = append(opts, jetstream.IgnoreDeletes())
	}
	kw, err := k.kv.Watch(ctx, filter, opts...)
	if err != nil {
		return nil, k.err("watch", filter, err)
	}
	w := &Watcher{w: kw, out: make(chan *Entry, 64), stop: make(chan struct{})}
	go w.forward()
	return w, nil
}

// forward turns the client's entries into the bus's. After Stop it keeps
// draining the client's channel until the client closes it, so that its
// delivery never blocks.
func (w *Watcher) forward() {
	defer close(w.out)
	stopped := false
	for e := range w.w.Updates() {
		if stopped {
			continue
		}
		var out *Entry
		if e != nil {
			ent := entryOf(e)
			out = &ent
		}
		select {
		case w.out <- out:
		case <-w.stop:
			stopped = true
		}
	}
}

// Updates is the channel of entries: nil marks the end of the initial
// values (unless UpdatesOnly). It is closed when the watch ends.
func (w *Watcher) Updates() <-chan *Entry { return w.out }

// Stop ends the watch. Safe to call more than once.
func (w *Watcher) Stop() error {
	select {
	case <-w.stop:
		return nil
	default:
		close(w.stop)
	}
	if err := w.w.Stop(); err != nil {
		return fmt.Errorf("bus: stop watch: %w", natsErr(err))
	}
	return nil
}

func entryOf(e jetstream.KeyValueEntry) Entry {
	op := OpPut
	switch e.Operation() {
	case jetstream.KeyValueDelete:
		op = OpDelete
	case jetstream.KeyValuePurge:
		op = OpPurge
	}
	return Entry{Key: e.Key(), Value: e.Value(), Revision: e.Revision(), Op: op, Created: e.Created()}
}

// err turns an error of the client into the bus's: ErrKeyNotFound,
// ErrKeyExists, ErrRevisionMismatch, ErrStorageFull or a context error
// when it is one of those, the client's text otherwise.
func (k *KV) err(op, key string, err error) error {
	var kind error
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound), errors.Is(err, jetstream.ErrKeyDeleted):
		kind = ErrKeyNotFound
	case errors.Is(err, jetstream.ErrKeyExists), isWrongLastSequence(err):
		// The client reports both as a wrong last sequence.
		kind = ErrRevisionMismatch
		if op == "create" {
			kind = ErrKeyExists
		}
	case errors.Is(asStorageFull(err), ErrStorageFull):
		kind = ErrStorageFull
	case errors.Is(err, context.Canceled):
		kind = context.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		kind = context.DeadlineExceeded
	}
	if key != "" {
		op += " " + key
	}
	if kind == nil {
		return fmt.Errorf("bus: kv %s: %s: %v", k.name, op, err)
	}
	return fmt.Errorf("bus: kv %s: %s: %w (%v)", k.name, op, kind, err)
}

func isWrongLastSequence(err error) bool {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence || apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant
	}
	return strings.Contains(err.Error(), "wrong last sequence")
}

// natsErr keeps a context error checkable and the rest as text.
func natsErr(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return errors.New(err.Error())
}
