package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Buckets in the bus.
const (
	// StateBucket holds the jobs' state: the status of each job's last
	// run, paused flags, and what sources keep between runs (the poll
	// source's seen ids and HTTP validators).
	StateBucket = "jobs"
	// LeaseBucket holds one lease per job; its TTL is the lease TTL.
	LeaseBucket = "leases"
)

// OpenKV creates or opens the state and lease buckets.
func OpenKV(ctx context.Context, js jetstream.JetStream, cfg Config, replicas int) (Store, Leaser, error) {
	state, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      StateBucket,
		Description: "eventbridge jobs: last runs, paused flags, sources' state between runs",
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    max(replicas, 1),
	})
	if err != nil {
		return nil, nil, fmt.Errorf("jobs: bucket %s: %w", StateBucket, err)
	}
	leases, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      LeaseBucket,
		Description: "eventbridge leases: which instance runs each job",
		History:     1,
		TTL:         cfg.LeaseTTL.D(),
		Storage:     jetstream.FileStorage,
		Replicas:    max(replicas, 1),
	})
	if err != nil {
		return nil, nil, fmt.Errorf("jobs: bucket %s: %w", LeaseBucket, err)
	}
	return &kvStore{kv: state}, NewKVLeaser(leases), nil
}

// kvStore is a Store on a KV bucket.
type kvStore struct{ kv jetstream.KeyValue }

func (s *kvStore) Get(ctx context.Context, key string) ([]byte, error) {
	e, err := s.kv.Get(ctx, key)
	if err != nil {
		if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("jobs: get %s: %w", key, err)
	}
	return e.Value(), nil
}

func (s *kvStore) Put(ctx context.Context, key string, value []byte) error {
	if _, err := s.kv.Put(ctx, key, value); err != nil {
		return fmt.Errorf("jobs: put %s: %w", key, err)
	}
	return nil
}

func (s *kvStore) Delete(ctx context.Context, key string) error {
	if err := s.kv.Delete(ctx, key); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("jobs: delete %s: %w", key, err)
	}
	return nil
}

// MemStore is a Store in memory, for tests and for a scheduler without a
// bus.
type MemStore struct {
	mu sync.Mutex
	m  map[string][]byte
}

// NewMemStore returns an empty store.
func NewMemStore() *MemStore { return &MemStore{m: map[string][]byte{}} }

// Get implements Store.
func (s *MemStore) Get(_ context.Context, key string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[key]
	if !ok {
		return nil, ErrNotFound
	}
	return append([]byte(nil), v...), nil
}

// Put implements Store.
func (s *MemStore) Put(_ context.Context, key string, value []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[key] = append([]byte(nil), value...)
	return nil
}

// Delete implements Store.
func (s *MemStore) Delete(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, key)
	return nil
}

// prefixed is the view of a Store under a key prefix.
type prefixed struct {
	s      Store
	prefix string
}

func (p prefixed) Get(ctx context.Context, key string) ([]byte, error) {
	return p.s.Get(ctx, p.prefix+key)
}
func (p prefixed) Put(ctx context.Context, key string, v []byte) error {
	return p.s.Put(ctx, p.prefix+key, v)
}
func (p prefixed) Delete(ctx context.Context, key string) error {
	return p.s.Delete(ctx, p.prefix+key)
}

// Leaser hands out leases: at most one owner holds a key at a time.
// Safe for concurrent use.
type Leaser interface {
	// Acquire takes the lease on key for owner, or renews it when owner
	// holds it. It reports whether owner holds it now, and who does. An
	// error means the outcome is unknown: treat the lease as lost.
	Acquire(ctx context.Context, key, owner string) (held bool, holder string, err error)
	// Release gives the lease up if owner holds it.
	Release(ctx context.Context, key, owner string) error
	// Holder returns who holds key ("" when nobody does).
	Holder(ctx context.Context, key string) (string, error)
}

// KVLeaser is a Leaser on a KV bucket whose TTL is the lease's: a lease
// not renewed within the TTL vanishes, and Create hands it to the next
// instance that asks. Renewal is a compare-and-set on the revision, so
// two instances never both believe they renewed.
type KVLeaser struct {
	kv   jetstream.KeyValue
	mu   sync.Mutex
	revs map[string]uint64 // revision of each lease this process holds
}

// NewKVLeaser returns a leaser on kv (a bucket with a TTL).
func NewKVLeaser(kv jetstream.KeyValue) *KVLeaser {
	return &KVLeaser{kv: kv, revs: map[string]uint64{}}
}

type leaseValue struct {
	Owner   string    `json:"owner"`
	Renewed time.Time `json:"renewed"`
}

// Acquire implements Leaser.
func (l *KVLeaser) Acquire(ctx context.Context, key, owner string) (bool, string, error) {
	now := time.Now().UTC()
	l.mu.Lock()
	rev, had := l.revs[key]
	l.mu.Unlock()
	val, _ := json.Marshal(leaseValue{Owner: owner, Renewed: now})
	if had {
		nrev, err := l.kv.Update(ctx, key, val, rev)
		if err == nil {
			l.setRev(key, nrev)
			return true, owner, nil
		}
		l.forget(key)
		if !isConflict(err) {
			return false, "", fmt.Errorf("jobs: renew lease %s: %w", key, err)
		}
		// Expired (and perhaps taken): ask afresh below.
	}
	nrev, err := l.kv.Create(ctx, key, val)
	if err == nil {
		l.setRev(key, nrev)
		return true, owner, nil
	}
	if !isConflict(err) {
		return false, "", fmt.Errorf("jobs: take lease %s: %w", key, err)
	}
	e, err := l.kv.Get(ctx, key)
	if err != nil {
		if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
			return false, "", nil // it just expired; the next try may take it
		}
		return false, "", fmt.Errorf("jobs: read lease %s: %w", key, err)
	}
	var cur leaseValue
	_ = json.Unmarshal(e.Value(), &cur)
	if cur.Owner != owner {
		return false, cur.Owner, nil
	}
	// Ours from an earlier life of this instance (a restart within the
	// TTL): take it back.
	nrev, err = l.kv.Update(ctx, key, val, e.Revision())
	if err != nil {
		if isConflict(err) {
			return false, "", nil
		}
		return false, "", fmt.Errorf("jobs: take lease %s: %w", key, err)
	}
	l.setRev(key, nrev)
	return true, owner, nil
}

// Release implements Leaser. It deletes the lease only if owner holds
// it, even when a renewal cut short left the revision unknown.
func (l *KVLeaser) Release(ctx context.Context, key, owner string) error {
	l.mu.Lock()
	rev, had := l.revs[key]
	delete(l.revs, key)
	l.mu.Unlock()
	if had {
		err := l.kv.Delete(ctx, key, jetstream.LastRevision(rev))
		if err == nil || errors.Is(err, jetstream.ErrKeyNotFound) {
			return nil
		}
		if !isConflict(err) {
			return fmt.Errorf("jobs: release lease %s: %w", key, err)
		}
	}
	e, err := l.kv.Get(ctx, key)
	if err != nil {
		if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
			return nil
		}
		return fmt.Errorf("jobs: release lease %s: %w", key, err)
	}
	var cur leaseValue
	if json.Unmarshal(e.Value(), &cur) != nil || cur.Owner != owner {
		return nil
	}
	if err := l.kv.Delete(ctx, key, jetstream.LastRevision(e.Revision())); err != nil && !isConflict(err) {
		return fmt.Errorf("jobs: release lease %s: %w", key, err)
	}
	return nil
}

// Holder implements Leaser.
func (l *KVLeaser) Holder(ctx context.Context, key string) (string, error) {
	e, err := l.kv.Get(ctx, key)
	if err != nil {
		if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
			return "", nil
		}
		return "", fmt.Errorf("jobs: read lease %s: %w", key, err)
	}
	var cur leaseValue
	if err := json.Unmarshal(e.Value(), &cur); err != nil {
		return "", fmt.Errorf("jobs: lease %s: %w", key, err)
	}
	return cur.Owner, nil
}

func (l *KVLeaser) setRev(key string, rev uint64) {
	l.mu.Lock()
	l.revs[key] = rev
	l.mu.Unlock()
}

func (l *KVLeaser) forget(key string) {
	l.mu.Lock()
	delete(l.revs, key)
	l.mu.Unlock()
}

func isConflict(err error) bool {
	if errors.Is(err, jetstream.ErrKeyExists) {
		return true
	}
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence || apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant
	}
	return strings.Contains(err.Error(), "wrong last sequence")
}

var (
	_ Store  = (*kvStore)(nil)
	_ Store  = (*MemStore)(nil)
	_ Store  = prefixed{}
	_ Leaser = (*KVLeaser)(nil)
)
