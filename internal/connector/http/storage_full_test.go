package http

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
)

// A bus with no storage left is answered 507 with a storage-full problem
// and a Retry-After, not the 503 of a bus that is down.
func TestIngestStorageFull(t *testing.T) {
	src, rec := newTestSource(t, nil)
	rec.err = fmt.Errorf("bus: publish: %w: the disk of data_dir /data has 1.0MiB free", bus.ErrStorageFull)
	w := serve(src, post(`{"a":1}`, binaryHeaders("Content-Type", "application/json")...))
	p := readProblem(t, w, 507)
	if p.Code != "storage-full" || p.Type == "" {
		t.Errorf("problem %+v, want code storage-full", p)
	}
	if ra, err := strconv.Atoi(w.Header().Get("Retry-After")); err != nil || ra != StorageFullRetryAfter {
		t.Errorf("Retry-After %q, want %d", w.Header().Get("Retry-After"), StorageFullRetryAfter)
	}
}
