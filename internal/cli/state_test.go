package cli

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

// get and describe show a source whose component cannot start as failed,
// with why, not as running.
func TestGetShowsAFailedComponent(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	url := startBridge(t, fmt.Sprintf(`
sources:
  in: {type: http, path: /events}
  busy: {type: http, path: /busy, listen: %q}
`, taken.Addr().String()))
	var r result
	testkit.Eventually(t, 10*time.Second, func() bool {
		r = cli(t, url, "get", "sources")
		return r.code == 0 && strings.Contains(r.out, "busy")
	}, "get sources: %v", r)
	wantInOrder(t, "get sources", r.out, "NAME", "STATE", "busy", "http", "file", "failed", "in", "http", "file", "running")
	r = cli(t, url, "describe", "source", "busy")
	wantInOrder(t, "describe", r.out, "State:", "failed", "Error:", "source/busy failed:", "address already in use",
		"Components:", "source/busy", "failed")
}
