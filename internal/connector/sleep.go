package connector

import (
	"time"
)

// Sleep waits for d, or until done is closed; it reports whether the
// whole wait passed.
func Sleep(done <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
		return false
	case <-t.C:
		return true
	}
}
