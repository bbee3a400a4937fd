//go:build linux

package cli

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
)

// rssFile is RssFile of /proc/self/status, in bytes.
func rssFile(t *testing.T) int64 {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "RssFile:"); ok {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("RssFile %q: %v", v, err)
			}
			return n << 10
		}
	}
	t.Skip("no RssFile in /proc/self/status")
	return 0
}

func TestReleaseStartupPages(t *testing.T) {
	before := rssFile(t)
	released := releaseStartupPages()
	after := rssFile(t)
	if released <= 0 {
		t.Fatalf("released %d bytes of the executable's pages (RssFile %d KiB before)", released, before>>10)
	}
	if after >= before {
		t.Fatalf("RssFile %d KiB after releasing %d KiB, %d KiB before", after>>10, released>>10, before>>10)
	}
	// The code runs on: its pages fault back in from the page cache.
	if got := memLimitFor(0, 0); got != memLimitFloor {
		t.Fatalf("memLimitFor after the release: %d", got)
	}
	if again := releaseStartupPages(); again < 0 {
		t.Fatalf("second release: %d", again)
	}
}
