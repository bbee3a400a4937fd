package state

import (
	"context"
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

// checkpoint is the feed's checkpoint of the archive created at archive
// (bus.Checkpoint, shared with the router of an embedded bus).
func (s *Store) checkpoint(archive int64) bus.Checkpoint {
	return bus.Checkpoint{KV: s.bkt, Key: checkpointKey, Archive: archive}
}

// loadCheckpoint reads the checkpoint of the archive created at archive.
// found is false when there is none, or one that is not taken (logged:
// unreadable, or of another archive); err when the bucket cannot be read.
func (s *Store) loadCheckpoint(ctx context.Context, archive int64) (seq uint64, found bool, err error) {
	seq, found, ignored, err := s.checkpoint(archive).Load(ctx)
	if err != nil {
		return 0, false, fmt.Errorf("state: %w", err)
	}
	if ignored != nil {
		s.log.Warn("state: checkpoint ignored", "why", ignored)
	}
	return seq, found, nil
}

// saveCheckpoint writes the checkpoint.
func (s *Store) saveCheckpoint(ctx context.Context, archive int64, seq uint64) error {
	return s.checkpoint(archive).Save(ctx, seq)
}
