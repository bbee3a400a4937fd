// Package jobsbus keeps the scheduler's state and leases in the bus: the
// KV buckets "jobs" and "leases" (docs/architecture.md, "Streams and
// buckets"). It is apart from package jobs so that the sources that use
// the scheduler's types do not depend on the bus.
package jobsbus

import (
	"context"
	"errors"
	"fmt"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
	"github.com/eventbridge-dev/eventbridge/internal/jobs"
)

// Open creates or opens the state and lease buckets of b. The leases'
// TTL is cfg.LeaseTTL.
func Open(ctx context.Context, b *bus.Bus, cfg jobs.Config) (jobs.Store, jobs.Leaser, error) {
	state, err := b.KV(ctx, bus.JobsBucket)
	if err != nil {
		return nil, nil, fmt.Errorf("jobs: %w", err)
	}
	leases, err := b.Leases(ctx, cfg.LeaseTTL.D())
	if err != nil {
		return nil, nil, fmt.Errorf("jobs: %w", err)
	}
	return &kvStore{kv: state}, leases, nil
}

// kvStore is a jobs.Store on a KV bucket.
type kvStore struct{ kv *bus.KV }

func (s *kvStore) Get(ctx context.Context, key string) ([]byte, error) {
	e, err := s.kv.Get(ctx, key)
	if err != nil {
		if errors.Is(err, bus.ErrKeyNotFound) {
			return nil, jobs.ErrNotFound
		}
		return nil, fmt.Errorf("jobs: get %s: %w", key, err)
	}
	return e.Value, nil
}

func (s *kvStore) Put(ctx context.Context, key string, value []byte) error {
	if _, err := s.kv.Put(ctx, key, value); err != nil {
		return fmt.Errorf("jobs: put %s: %w", key, err)
	}
	return nil
}

func (s *kvStore) Delete(ctx context.Context, key string) error {
	if err := s.kv.Delete(ctx, key, 0); err != nil {
		return fmt.Errorf("jobs: delete %s: %w", key, err)
	}
	return nil
}

var (
	_ jobs.Store  = (*kvStore)(nil)
	_ jobs.Leaser = (*bus.Leases)(nil)
	_ jobs.Relay  = (*bus.Bus)(nil)
)
