package bus

import (
	"context"

	"github.com/nats-io/nats.go/jetstream"
)

// LastRevision is the bucket's last revision: the sequence of its last
// write or delete (0 when it never had one). A reader that listed the
// bucket after reading it has seen every change up to it.
func (k *KV) LastRevision(ctx context.Context) (uint64, error) {
	st, err := k.kv.Status(ctx)
	if err != nil {
		return 0, k.err("status", "", err)
	}
	if bs, ok := st.(*jetstream.KeyValueBucketStatus); ok && bs.StreamInfo() != nil {
		return bs.StreamInfo().State.LastSeq, nil
	}
	return 0, nil
}
