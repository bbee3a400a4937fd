package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
)

// The local feed's checkpoint (feedlocal.go) is kept in the state bucket
// itself, under checkpointKey, which no state key hashes to (bucket keys
// of entries have no dot) and which List leaves out. Being in the same
// stream as the entries, it is written after every entry it vouches for:
// after an OS crash or power loss the store keeps a prefix of the
// stream's writes, so a checkpoint that survived never counts an entry
// that did not. (A file in data_dir, synced, could run ahead of the
// entries the store had not synced yet.) It names the archive it was
// taken of, so that a new archive does not take it.
const checkpointKey = "feed.checkpoint"

type checkpointValue struct {
	// Archive is the EVENTS stream's creation time (unix nanos).
	Archive int64 `json:"archive"`
	// Seq: every event of EVENTS up to it is applied.
	Seq uint64 `json:"seq"`
}

// loadCheckpoint reads the checkpoint of the archive created at archive.
// found is false when there is none, or one that is not taken (logged:
// unreadable, or of another archive); err when the bucket cannot be read.
func (s *Store) loadCheckpoint(ctx context.Context, archive int64) (seq uint64, found bool, err error) {
	kve, err := s.bkt.Get(ctx, checkpointKey)
	if errors.Is(err, bus.ErrKeyNotFound) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("state: checkpoint: %w", err)
	}
	var v checkpointValue
	if err := json.Unmarshal(kve.Value, &v); err != nil {
		s.log.Warn("state: checkpoint unreadable, ignored", "err", err)
		return 0, false, nil
	}
	if v.Archive != archive {
		s.log.Warn("state: checkpoint of another archive, ignored", "checkpoint", v.Seq)
		return 0, false, nil
	}
	return v.Seq, true, nil
}

// saveCheckpoint writes the checkpoint.
func (s *Store) saveCheckpoint(ctx context.Context, archive int64, seq uint64) error {
	b, _ := json.Marshal(checkpointValue{Archive: archive, Seq: seq})
	_, err := s.bkt.Put(ctx, checkpointKey, b)
	return err
}
