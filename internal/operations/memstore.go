package operations

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
)

// MemStore is a Store in memory, for one process and for tests. It
// follows the bus's rules: revisions, compare-and-set, and the bus's
// errors.
type MemStore struct {
	mu   sync.Mutex
	rev  uint64
	recs map[string][]byte
	revs map[string]uint64
}

// NewMemStore returns an empty store.
func NewMemStore() *MemStore {
	return &MemStore{recs: map[string][]byte{}, revs: map[string]uint64{}}
}

// Create implements Store.
func (s *MemStore) Create(_ context.Context, rec *bus.OpRecord) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.recs[rec.ID]; ok {
		return fmt.Errorf("ops: create %s: %w", rec.ID, bus.ErrKeyExists)
	}
	return s.put(rec)
}

// put stores rec under a new revision. s.mu is held.
func (s *MemStore) put(rec *bus.OpRecord) error {
	val, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	s.rev++
	s.recs[rec.ID], s.revs[rec.ID] = val, s.rev
	rec.Revision = s.rev
	return nil
}

// Get implements Store.
func (s *MemStore) Get(_ context.Context, id string) (bus.OpRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.get(id)
}

func (s *MemStore) get(id string) (bus.OpRecord, error) {
	val, ok := s.recs[id]
	if !ok {
		return bus.OpRecord{}, fmt.Errorf("ops: get %s: %w", id, bus.ErrKeyNotFound)
	}
	var rec bus.OpRecord
	if err := json.Unmarshal(val, &rec); err != nil {
		return bus.OpRecord{}, err
	}
	rec.Revision = s.revs[id]
	return rec, nil
}

// Update implements Store.
func (s *MemStore) Update(_ context.Context, rec *bus.OpRecord) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rev, ok := s.revs[rec.ID]; !ok || rev != rec.Revision {
		return fmt.Errorf("ops: update %s: %w", rec.ID, bus.ErrRevisionMismatch)
	}
	return s.put(rec)
}

// Delete implements Store.
func (s *MemStore) Delete(_ context.Context, rec bus.OpRecord) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rev, ok := s.revs[rec.ID]; ok && rev != rec.Revision {
		return fmt.Errorf("ops: delete %s: %w", rec.ID, bus.ErrRevisionMismatch)
	}
	delete(s.recs, rec.ID)
	delete(s.revs, rec.ID)
	return nil
}

// List implements Store.
func (s *MemStore) List(_ context.Context) ([]bus.OpRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]bus.OpRecord, 0, len(s.recs))
	for id := range s.recs {
		rec, err := s.get(id)
		if err != nil {
			continue
		}
		out = append(out, rec)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Started.Before(out[j].Started) })
	return out, nil
}

var (
	_ Store  = (*MemStore)(nil)
	_ Store  = (*bus.Operations)(nil)
	_ Leaser = (*bus.Leases)(nil)
)
