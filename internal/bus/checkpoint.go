package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// A checkpoint is a low-water mark over the EVENTS sequences, kept in a
// KV bucket under one key: every event of the archive up to its Seq has
// been dealt with by whoever keeps it (the state feed, the router of an
// embedded bus). It names the archive it was taken of (ArchiveCreated,
// unix nanos), so that an archive made again under the same name does
// not take it.

// CheckpointsBucket ("checkpoints") holds the router's checkpoint on an
// embedded bus that listens on no port (docs/architecture.md, "Routing").
var CheckpointsBucket = Bucket{
	Name:        "checkpoints",
	Description: "eventbridge checkpoints: how far the archive has been routed",
	History:     1,
}

// CheckpointKV is what a checkpoint needs of its bucket (*KV and
// *StateBucket have it).
type CheckpointKV interface {
	Get(ctx context.Context, key string) (Entry, error)
	Put(ctx context.Context, key string, value []byte) (uint64, error)
}

// Checkpoint is one checkpoint: the key Key of KV, for the archive
// created at Archive.
type Checkpoint struct {
	KV      CheckpointKV
	Key     string
	Archive int64
}

type checkpointValue struct {
	Archive int64  `json:"archive"` // the EVENTS stream's creation time (unix nanos)
	Seq     uint64 `json:"seq"`     // every event of EVENTS up to it is dealt with
}

// ErrCheckpointIgnored is wrapped by the reason Load gives for a
// checkpoint that is there but not taken (unreadable, or of another
// archive).
var ErrCheckpointIgnored = errors.New("checkpoint ignored")

// Load reads the checkpoint. found is false when there is none, or one
// that is not taken: ignored then says why (wraps ErrCheckpointIgnored).
// err is set when the bucket cannot be read.
func (c Checkpoint) Load(ctx context.Context) (seq uint64, found bool, ignored, err error) {
	e, err := c.KV.Get(ctx, c.Key)
	if errors.Is(err, ErrKeyNotFound) {
		return 0, false, nil, nil
	}
	if err != nil {
		return 0, false, nil, fmt.Errorf("bus: checkpoint %s: %w", c.Key, err)
	}
	var v checkpointValue
	if err := json.Unmarshal(e.Value, &v); err != nil {
		return 0, false, fmt.Errorf("%w: unreadable: %v", ErrCheckpointIgnored, err), nil
	}
	if v.Archive != c.Archive {
		return 0, false, fmt.Errorf("%w: of another archive (seq %d)", ErrCheckpointIgnored, v.Seq), nil
	}
	return v.Seq, true, nil, nil
}

// Save writes the checkpoint: every event up to seq is dealt with.
func (c Checkpoint) Save(ctx context.Context, seq uint64) error {
	b, _ := json.Marshal(checkpointValue{Archive: c.Archive, Seq: seq})
	if _, err := c.KV.Put(ctx, c.Key, b); err != nil {
		return fmt.Errorf("bus: checkpoint %s: %w", c.Key, err)
	}
	return nil
}
