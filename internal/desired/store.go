// Package desired keeps the desired state, the resources the bridge should
// run, in the JetStream KV bucket "config". Every replica watches the same
// bucket, so a change made through any of them reaches all.
package desired

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
	"github.com/eventbridge-dev/eventbridge/internal/resource"
)

// Bucket is the KV bucket of the desired state (its settings are the
// bus's: bus.DesiredStateBucket).
var Bucket = bus.DesiredStateBucket.Name

// Errors of the store.
var (
	// ErrNotFound: no resource with that kind and name.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict: the resource changed since the revision given
	// (If-Match), or exists when it should not (create-only).
	ErrConflict = errors.New("store: revision conflict")
)

// Store reads and writes resources. Safe for concurrent use.
type Store struct {
	kv *bus.KV
}

// Open creates or opens the bucket.
func Open(ctx context.Context, b *bus.Bus) (*Store, error) {
	kv, err := b.KV(ctx, bus.DesiredStateBucket)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return &Store{kv: kv}, nil
}

// WatchChanges sends an entry, without its value, for every change made
// to any resource after it began, until ctx ends or it is stopped. The
// controller reconciles on them.
func (s *Store) WatchChanges(ctx context.Context) (*bus.Watcher, error) {
	w, err := s.kv.Watch(ctx, ">", bus.WatchOptions{UpdatesOnly: true, MetaOnly: true})
	if err != nil {
		return nil, fmt.Errorf("store: watch: %w", err)
	}
	return w, nil
}

// LastRevision is the store's last revision (of a write or a delete):
// a List made after reading it holds every change up to it.
func (s *Store) LastRevision(ctx context.Context) (uint64, error) {
	rev, err := s.kv.LastRevision(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: %w", err)
	}
	return rev, nil
}

// Get reads one resource.
func (s *Store) Get(ctx context.Context, kind resource.Kind, name string) (*resource.Object, error) {
	e, err := s.kv.Get(ctx, resource.Key(kind, name))
	if err != nil {
		if errors.Is(err, bus.ErrKeyNotFound) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("store: get: %w", err)
	}
	return Decode(e)
}

// Decode reads a KV entry.
func Decode(e bus.Entry) (*resource.Object, error) {
	var o resource.Object
	if err := json.Unmarshal(e.Value, &o); err != nil {
		return nil, fmt.Errorf("store: %s: %w", e.Key, err)
	}
	o.Revision = e.Revision
	return &o, nil
}

// List returns every resource of a kind (all kinds when kind is ""),
// sorted by kind and name.
func (s *Store) List(ctx context.Context, kind resource.Kind) ([]*resource.Object, error) {
	filter := ">"
	if kind != "" {
		filter = string(kind) + ".>"
	}
	entries, err := s.kv.List(ctx, filter)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("store: list: %w", err)
	}
	out := make([]*resource.Object, 0, len(entries))
	for _, e := range entries {
		o, err := Decode(e)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key() < out[j].Key() })
	return out, nil
}

// Put writes o. With ifMatch 0 it creates or replaces; with ifMatch > 0 it
// replaces only that revision; createOnly refuses an existing resource.
// Created is kept from the stored version. It returns the new revision.
func (s *Store) Put(ctx context.Context, o *resource.Object, ifMatch uint64, createOnly bool) (uint64, error) {
	now := time.Now().UTC()
	o.Updated = now
	if o.Created.IsZero() {
		o.Created = now
		if old, err := s.Get(ctx, o.Kind, o.Name); err == nil {
			o.Created = old.Created
		}
	}
	b, err := json.Marshal(o)
	if err != nil {
		return 0, err
	}
	var rev uint64
	switch {
	case createOnly:
		rev, err = s.kv.Create(ctx, o.Key(), b)
	case ifMatch > 0:
		rev, err = s.kv.Update(ctx, o.Key(), b, ifMatch)
	default:
		rev, err = s.kv.Put(ctx, o.Key(), b)
	}
	if err != nil {
		if isConflict(err) {
			return 0, ErrConflict
		}
		return 0, fmt.Errorf("store: put: %w", err)
	}
	o.Revision = rev
	return rev, nil
}

// Delete removes a resource; with ifMatch > 0, only that revision.
func (s *Store) Delete(ctx context.Context, kind resource.Kind, name string, ifMatch uint64) error {
	if _, err := s.Get(ctx, kind, name); err != nil {
		return err
	}
	if err := s.kv.Delete(ctx, resource.Key(kind, name), ifMatch); err != nil {
		if isConflict(err) {
			return ErrConflict
		}
		return fmt.Errorf("store: delete: %w", err)
	}
	return nil
}

func isConflict(err error) bool {
	return errors.Is(err, bus.ErrKeyExists) || errors.Is(err, bus.ErrRevisionMismatch)
}
