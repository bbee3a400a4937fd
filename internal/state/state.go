// Package state keeps the current state of everything: the last event per
// key in the JetStream KV bucket "state". By default the key is the
// event's (CloudEvents source, subject); a source resource may name it
// instead with a template over the event's attributes (state_key).
//
// The bucket is fed with the events of the EVENTS stream (see feed.go):
// on the embedded bus in process, from Publish, with a checkpoint in
// data_dir from which a start reads the archive back; on an external
// cluster by a durable consumer that acknowledges an event only once its
// entry is written. Either way every event the bridge acknowledged is
// reflected after a crash; an entry is replaced only by an event of a
// higher stream sequence. Components may also keep entries under keys of
// their own (Put).
//
// Entries live in the bucket's values as JSON: KV keys allow few
// characters, so the bucket key is a hash of the state key and the
// readable fields (key, source, subject) are inside the value.
package state

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/eventbridge-dev/eventbridge/internal/bus"
)

// Bucket is the KV bucket of the state.
const Bucket = bus.StateBucketName

// ErrNotFound: no entry under that key (never written, deleted or expired).
var ErrNotFound = errors.New("state: not found")

// Entry is the last event under one key.
type Entry struct {
	// Key is the state key: DefaultKey(source, subject) unless a source
	// resource or a component named it.
	Key string `json:"key"`
	// Source is the event's CloudEvents source attribute.
	Source  string `json:"source"`
	Subject string `json:"subject,omitempty"`
	// Resource is the bridge source resource that ingested the event, if
	// any.
	Resource string    `json:"resource,omitempty"`
	Updated  time.Time `json:"updated"`
	// Seq is the event's EVENTS stream sequence, when it came from the bus.
	Seq uint64 `json:"seq,omitempty"`
	// Truncated is set when the event was bigger than state.max_event_size
	// and is kept without its data.
	Truncated bool      `json:"truncated,omitempty"`
	Event     *ce.Event `json:"event"`
}

// Query selects entries; empty fields match everything. Limit 0 means no
// limit.
type Query struct {
	Source, Subject, Resource, KeyPrefix string
	Limit                                int
}

// Store reads and writes the state. Safe for concurrent use.
type Store struct {
	cfg Config
	log *slog.Logger
	bus *bus.Bus
	bkt *bus.StateBucket

	// slots caches, per bucket key, the stream sequence of the event
	// stored and the bucket revision that holds it, so that the feed
	// decides newer-wins without a read per event.
	mu    sync.Mutex
	slots map[string]slot

	fmu  sync.Mutex // guards feed
	feed *feeder

	// For tests: consumerFeed runs the feed on the durable consumer as on
	// an external cluster; checkpointEvery replaces checkpointEvery.
	consumerFeed    bool
	checkpointEvery time.Duration
}

type slot struct {
	seq uint64 // EVENTS sequence of the stored event; 0: none, or a Put
	rev uint64 // bucket revision of the last write (0: key absent)
}

// maxSlots bounds the cache; beyond it, it starts over (misses read the
// bucket).
const maxSlots = 1 << 18

// Open creates or updates the bucket. cfg must have had Defaults applied.
func Open(ctx context.Context, b *bus.Bus, cfg Config, log *slog.Logger) (*Store, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg.Defaults()
	bkt, err := b.StateBucket(ctx, bus.StateBucketOptions{
		MaxBytes:     int64(cfg.MaxBytes),
		MaxAge:       cfg.MaxAge.D(),
		MaxValueSize: int32(cfg.MaxEventSize) + 64<<10,
		Replicas:     cfg.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	return &Store{cfg: cfg, log: log, bus: b, bkt: bkt, slots: map[string]slot{}}, nil
}

// Config returns the configuration the store was opened with.
func (s *Store) Config() Config { return s.cfg }

// DefaultKey is the state key of an event that no one named: its source,
// and its subject after a '#' when it has one.
func DefaultKey(source, subject string) string {
	if subject == "" {
		return source
	}
	return source + "#" + subject
}

// bucketKey turns a state key into a KV key: 32 base64url characters of
// its SHA-256.
func bucketKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return base64.RawURLEncoding.EncodeToString(sum[:24])
}

// Get returns the entry of (source, subject) under the default key.
func (s *Store) Get(ctx context.Context, source, subject string) (*Entry, error) {
	return s.GetKey(ctx, DefaultKey(source, subject))
}

// GetKey returns the entry under key.
func (s *Store) GetKey(ctx context.Context, key string) (*Entry, error) {
	if key == "" {
		return nil, ErrNotFound
	}
	kve, err := s.bkt.Get(ctx, bucketKey(key))
	if err != nil {
		if errors.Is(err, bus.ErrKeyNotFound) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("state: get: %w", err)
	}
	e, err := decodeEntry(kve.Value)
	if err != nil {
		return nil, err
	}
	if e.Key != key { // a hash collision: not this key's entry
		return nil, ErrNotFound
	}
	return e, nil
}

// Latest returns the newest entry (by update time) of a CloudEvents source
// over all its subjects and keys.
func (s *Store) Latest(ctx context.Context, source string) (*Entry, error) {
	es, err := s.List(ctx, Query{Source: source, Limit: 1})
	if err != nil {
		return nil, err
	}
	if len(es) == 0 {
		return nil, ErrNotFound
	}
	return &es[0], nil
}

// List returns the entries q selects, newest first. It reads the whole
// bucket.
func (s *Store) List(ctx context.Context, q Query) ([]Entry, error) {
	w, err := s.bkt.Watch(ctx, ">", bus.WatchOptions{IgnoreDeletes: true})
	if err != nil {
		return nil, fmt.Errorf("state: list: %w", err)
	}
	defer func() { _ = w.Stop() }()
	var out []Entry
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case kve, ok := <-w.Updates():
			if !ok {
				return nil, fmt.Errorf("state: list: watch closed")
			}
			if kve == nil { // the initial values are all in
				sortEntries(out)
				if q.Limit > 0 && len(out) > q.Limit {
					out = out[:q.Limit]
				}
				return out, nil
			}
			if kve.Key == checkpointKey {
				continue // the feed's, not an entry
			}
			if q.Source != "" && !containsQuoted(kve.Value, q.Source) {
				continue // cheap pre-filter before decoding
			}
			e, err := decodeEntry(kve.Value)
			if err != nil {
				s.log.Warn("state: unreadable entry", "bucket_key", kve.Key, "err", err)
				continue
			}
			if q.matches(e) {
				out = append(out, *e)
			}
		}
	}
}

// containsQuoted reports whether b may hold s as a JSON string.
func containsQuoted(b []byte, s string) bool {
	q, _ := json.Marshal(s)
	return strings.Contains(string(b), strings.Trim(string(q), `"`))
}

func (q Query) matches(e *Entry) bool {
	return (q.Source == "" || e.Source == q.Source) &&
		(q.Subject == "" || e.Subject == q.Subject) &&
		(q.Resource == "" || e.Resource == q.Resource) &&
		(q.KeyPrefix == "" || strings.HasPrefix(e.Key, q.KeyPrefix))
}

func sortEntries(es []Entry) {
	slices.SortFunc(es, func(a, b Entry) int {
		if c := b.Updated.Compare(a.Updated); c != 0 {
			return c
		}
		if c := cmp.Compare(b.Seq, a.Seq); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
}

// Put stores ev under key, replacing what is there, for components that
// keep state under keys of their own. resource names the bridge resource
// it belongs to, if any. An event from the bus with the same key replaces
// it later.
func (s *Store) Put(ctx context.Context, key string, resource string, ev *ce.Event) error {
	if key == "" {
		return errors.New("state: put: empty key")
	}
	if ev == nil {
		return errors.New("state: put: nil event")
	}
	raw, err := ev.MarshalJSON()
	if err != nil {
		return fmt.Errorf("state: put: %w", err)
	}
	val, err := s.encode(key, ev.Source(), ev.Subject(), resource, time.Now(), 0, raw)
	if err != nil {
		return fmt.Errorf("state: put: %w", err)
	}
	bk := bucketKey(key)
	rev, err := s.bkt.Put(ctx, bk, val)
	if err != nil {
		return fmt.Errorf("state: put: %w", err)
	}
	s.setSlot(bk, slot{seq: 0, rev: rev})
	return nil
}

// Delete removes the entry under key. Deleting a missing key is not an
// error.
func (s *Store) Delete(ctx context.Context, key string) error {
	bk := bucketKey(key)
	if err := s.bkt.Delete(ctx, bk, 0); err != nil {
		return fmt.Errorf("state: delete: %w", err)
	}
	s.mu.Lock()
	delete(s.slots, bk)
	s.mu.Unlock()
	return nil
}

func (s *Store) setSlot(bk string, sl slot) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.slots) >= maxSlots {
		clear(s.slots)
	}
	s.slots[bk] = sl
}

func (s *Store) getSlot(bk string) (slot, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sl, ok := s.slots[bk]
	return sl, ok
}

// loadSlot reads what the bucket holds under bk.
func (s *Store) loadSlot(ctx context.Context, bk string) (slot, error) {
	last, err := s.bkt.Last(ctx, bk)
	if err != nil {
		return slot{}, err
	}
	if last.Revision == 0 || last.Deleted { // none, or a DEL or PURGE marker
		return slot{rev: last.Revision}, nil
	}
	var h struct {
		Seq uint64 `json:"seq"`
	}
	if err := json.Unmarshal(last.Value, &h); err != nil {
		return slot{rev: last.Revision}, nil // unreadable: let a newer event replace it
	}
	return slot{seq: h.Seq, rev: last.Revision}, nil
}

// encode builds a bucket value; an event above max_event_size loses its
// data. event is the event's JSON form as the bus stores it.
func (s *Store) encode(key, source, subject, resource string, updated time.Time, seq uint64, event []byte) ([]byte, error) {
	truncated := false
	if int64(len(event)) > int64(s.cfg.MaxEventSize) {
		e := ce.New()
		if err := e.UnmarshalJSON(event); err != nil {
			return nil, err
		}
		e.DataEncoded, e.DataBase64 = nil, false
		raw, err := e.MarshalJSON()
		if err != nil {
			return nil, err
		}
		event, truncated = raw, true
	}
	// Written by hand: this runs for every event, and encoding/json
	// would check and copy the event again.
	b := make([]byte, 0, len(event)+len(key)+len(source)+len(subject)+len(resource)+128)
	b = append(b, `{"key":`...)
	b = appendString(b, key)
	b = append(b, `,"source":`...)
	b = appendString(b, source)
	if subject != "" {
		b = append(b, `,"subject":`...)
		b = appendString(b, subject)
	}
	if resource != "" {
		b = append(b, `,"resource":`...)
		b = appendString(b, resource)
	}
	b = append(b, `,"updated":"`...)
	b = updated.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	if seq != 0 {
		b = append(b, `,"seq":`...)
		b = strconv.AppendUint(b, seq, 10)
	}
	if truncated {
		b = append(b, `,"truncated":true`...)
	}
	b = append(b, `,"event":`...)
	b = append(b, event...)
	b = append(b, '}')
	return b, nil
}

// appendString appends s as a JSON string.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

func decodeEntry(b []byte) (*Entry, error) {
	var e Entry
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, fmt.Errorf("state: decode entry: %w", err)
	}
	return &e, nil
}
