//go:build !linux

package testkit

import (
	"os"
	"testing"
)

// Tmpfs needs Linux: the test is skipped, or fails under
// EVENTBRIDGE_INTEGRATION=1.
func Tmpfs(t testing.TB, size int64) string {
	t.Helper()
	if os.Getenv("EVENTBRIDGE_INTEGRATION") == "1" {
		t.Fatal("a tmpfs needs Linux")
	}
	t.Skip("a tmpfs needs Linux")
	return ""
}

// FillDisk is not available without Tmpfs.
func FillDisk(t testing.TB, dir string) string {
	t.Fatal("FillDisk needs Linux")
	return ""
}
