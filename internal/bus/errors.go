package bus

import (
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// ErrClosed is returned by operations on a closed bus.
var ErrClosed = errors.New("bus: closed")

// ErrStorageFull is returned by Publish when the bus cannot store events for
// want of storage: the disk of data_dir has less free space than
// bus.disk_reserve, the embedded store could not write to it, or the
// JetStream server reports its storage limits reached. Nothing new was
// acknowledged; the producer should send the events again later. The bus
// accepts events again by itself once space is back.
var ErrStorageFull = errors.New("bus: storage full")

// IsStorageFull reports whether err means that the bus has no storage
// left: ErrStorageFull, or the JetStream server's own answer that its
// storage limits are reached (as writes to the bridge's KV buckets may
// return it). The API answers such writes with 507.
func IsStorageFull(err error) bool {
	return err != nil && errors.Is(asStorageFull(err), ErrStorageFull)
}

// Error codes of JetStream that mean "no storage left".
const (
	jsAccountResourcesExceeded = 10002 // the account's max_file_store
	jsInsufficientResources    = 10023 // the server's max_file_store
	jsStorageResourcesExceeded = 10047 // a stream's reservation does not fit
)

// asStorageFull wraps err with ErrStorageFull when the server's answer says
// its storage is full.
func asStorageFull(err error) error {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode {
		case jsAccountResourcesExceeded, jsInsufficientResources, jsStorageResourcesExceeded:
			return fmt.Errorf("%w: %w", ErrStorageFull, err)
		}
	}
	return err
}
