// Package store keeps the desired state, the resources the bridge should
// run, in the JetStream KV bucket "config". Every replica watches the same
// bucket, so a change made through any of them reaches all.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/eventbridge-dev/eventbridge/internal/resource"
)

// Bucket is the KV bucket of the desired state.
const Bucket = "config"

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
	kv jetstream.KeyValue
}

// Open creates or opens the bucket.
func Open(ctx context.Context, js jetstream.JetStream, replicas int) (*Store, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      Bucket,
		Description: "eventbridge desired state: sources, targets, rules, subscriptions",
		History:     5,
		Storage:     jetstream.FileStorage,
		Replicas:    max(replicas, 1),
	})
	if err != nil {
		return nil, fmt.Errorf("store: bucket %s: %w", Bucket, err)
	}
	return &Store{kv: kv}, nil
}

// KV returns the bucket, for watchers.
func (s *Store) KV() jetstream.KeyValue { return s.kv }

// Get reads one resource.
func (s *Store) Get(ctx context.Context, kind resource.Kind, name string) (*resource.Object, error) {
	e, err := s.kv.Get(ctx, resource.Key(kind, name))
	if err != nil {
		if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("store: get: %w", err)
	}
	return Decode(e)
}

// Decode reads a KV entry.
func Decode(e jetstream.KeyValueEntry) (*resource.Object, error) {
	var o resource.Object
	if err := json.Unmarshal(e.Value(), &o); err != nil {
		return nil, fmt.Errorf("store: %s: %w", e.Key(), err)
	}
	o.Revision = e.Revision()
	return &o, nil
}

// List returns every resource of a kind (all kinds when kind is ""),
// sorted by kind and name.
func (s *Store) List(ctx context.Context, kind resource.Kind) ([]*resource.Object, error) {
	filter := ">"
	if kind != "" {
		filter = string(kind) + ".>"
	}
	w, err := s.kv.Watch(ctx, filter, jetstream.IgnoreDeletes())
	if err != nil {
		return nil, fmt.Errorf("store: list: %w", err)
	}
	defer func() { _ = w.Stop() }()
	var out []*resource.Object
	for {
		select {
		case e, ok := <-w.Updates():
			if !ok {
				return out, nil
			}
			if e == nil { // end of the initial values
				sort.Slice(out, func(i, j int) bool { return out[i].Key() < out[j].Key() })
				return out, nil
			}
			o, err := Decode(e)
			if err != nil {
				return nil, err
			}
			out = append(out, o)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
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
		return 0, fmt.Errorf("store: put %s: %w", o.Key(), err)
	}
	o.Revision = rev
	return rev, nil
}

// Delete removes a resource; with ifMatch > 0, only that revision.
func (s *Store) Delete(ctx context.Context, kind resource.Kind, name string, ifMatch uint64) error {
	if _, err := s.Get(ctx, kind, name); err != nil {
		return err
	}
	var opts []jetstream.KVDeleteOpt
	if ifMatch > 0 {
		opts = append(opts, jetstream.LastRevision(ifMatch))
	}
	if err := s.kv.Delete(ctx, resource.Key(kind, name), opts...); err != nil {
		if isConflict(err) {
			return ErrConflict
		}
		return fmt.Errorf("store: delete: %w", err)
	}
	return nil
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
