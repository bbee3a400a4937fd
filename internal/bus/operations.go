package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"
)

// OpRecord is a long operation of the API (a replay, a redrive) as stored
// in the bucket "operations", one key per operation id. Its owner writes
// it with compare-and-set on Revision, so a change made meanwhile by
// another replica (a cancel, a takeover) is never overwritten.
type OpRecord struct {
	ID   string `json:"id"`
	Kind string `json:"kind"`
	// Params are the operation's parameters, as its kind defines them.
	Params json.RawMessage `json:"params,omitempty"`
	// State is running, succeeded, failed or cancelled.
	State    string           `json:"state"`
	Progress map[string]int64 `json:"progress"`
	Error    string           `json:"error,omitempty"`
	// Owner is the instance that runs the operation ("" while nobody
	// does: its owner stopped and handed it over).
	Owner string `json:"owner,omitempty"`
	// Checkpoint is where a new owner resumes: the first sequence (of the
	// archive, of the DLQ) not yet done for sure (0: the start).
	Checkpoint uint64 `json:"checkpoint,omitempty"`
	// Bound is the last sequence the operation looks at, fixed when it
	// began (0: not fixed).
	Bound uint64 `json:"bound,omitempty"`
	// CancelRequested is set by whoever cancels the operation; its owner
	// stops when it sees it.
	CancelRequested bool      `json:"cancel_requested,omitempty"`
	Started         time.Time `json:"started"`
	Updated         time.Time `json:"updated"`
	Finished        time.Time `json:"finished,omitzero"`
	// Revision is the record's revision in the bucket, set by the reads
	// and writes of Operations (not stored).
	Revision uint64 `json:"-"`
}

// Operations is the bucket of operation records. Safe for concurrent use.
type Operations struct{ kv *KV }

// Operations creates or opens the bucket "operations".
func (b *Bus) Operations(ctx context.Context) (*Operations, error) {
	kv, err := b.KV(ctx, OperationsBucket)
	if err != nil {
		return nil, err
	}
	return &Operations{kv: kv}, nil
}

// validOpID reports whether id can be a key: ids come from API paths, and
// the client refuses other keys with an error that is not ErrKeyNotFound.
func validOpID(id string) bool {
	if id == "" || len(id) > 200 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Create stores a new record and sets its Revision; ErrKeyExists when the
// id is taken.
func (o *Operations) Create(ctx context.Context, rec *OpRecord) error {
	if !validOpID(rec.ID) {
		return fmt.Errorf("bus: operation id %q: only letters, digits, - and _", rec.ID)
	}
	val, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	rev, err := o.kv.Create(ctx, rec.ID, val)
	if err != nil {
		return err
	}
	rec.Revision = rev
	return nil
}

// Get reads the record id; ErrKeyNotFound when there is none.
func (o *Operations) Get(ctx context.Context, id string) (OpRecord, error) {
	if !validOpID(id) {
		return OpRecord{}, fmt.Errorf("bus: operation %q: %w", id, ErrKeyNotFound)
	}
	e, err := o.kv.Get(ctx, id)
	if err != nil {
		return OpRecord{}, err
	}
	return decodeOp(e)
}

// Update writes rec if rec.Revision is still the record's last revision,
// and sets rec.Revision to the new one; ErrRevisionMismatch otherwise.
func (o *Operations) Update(ctx context.Context, rec *OpRecord) error {
	val, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	rev, err := o.kv.Update(ctx, rec.ID, val, rec.Revision)
	if err != nil {
		return err
	}
	rec.Revision = rev
	return nil
}

// Delete removes rec if it did not change since it was read;
// ErrRevisionMismatch otherwise.
func (o *Operations) Delete(ctx context.Context, rec OpRecord) error {
	return o.kv.Delete(ctx, rec.ID, rec.Revision)
}

// List returns every record, oldest start first. Records that cannot be
// read are left out.
func (o *Operations) List(ctx context.Context) ([]OpRecord, error) {
	es, err := o.kv.List(ctx, ">")
	if err != nil {
		return nil, err
	}
	out := make([]OpRecord, 0, len(es))
	for _, e := range es {
		rec, err := decodeOp(e)
		if err != nil {
			continue
		}
		out = append(out, rec)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Started.Before(out[j].Started) })
	return out, nil
}

func decodeOp(e Entry) (OpRecord, error) {
	var rec OpRecord
	if err := json.Unmarshal(e.Value, &rec); err != nil {
		return OpRecord{}, fmt.Errorf("bus: operation %s: %w", e.Key, errors.New(err.Error()))
	}
	rec.Revision = e.Revision
	return rec, nil
}
