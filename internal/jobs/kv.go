package jobs

import (
	"context"
	"sync"
)

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

var (
	_ Store = (*MemStore)(nil)
	_ Store = prefixed{}
)
