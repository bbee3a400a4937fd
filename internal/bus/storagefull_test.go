package bus

import (
	"errors"
	"fmt"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
)

func TestIsStorageFull(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("timeout"), false},
		{ErrStorageFull, true},
		{fmt.Errorf("kv put: %w", ErrStorageFull), true},
		{fmt.Errorf("kv put: %w", &jetstream.APIError{ErrorCode: jsInsufficientResources}), true},
		{&jetstream.APIError{ErrorCode: jsStorageResourcesExceeded}, true},
		{&jetstream.APIError{ErrorCode: jsAccountResourcesExceeded}, true},
		{&jetstream.APIError{ErrorCode: 10071}, false}, // wrong last sequence
	} {
		if got := IsStorageFull(c.err); got != c.want {
			t.Errorf("IsStorageFull(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}
