package server_test

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

// A resource's state shows its components': a source that cannot bind
// its port is failed, with why, in GET /v1/sources and GET
// /v1/sources/{name}, and runs again once it can.
func TestSourceStateShowsItsFailedComponent(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	b := startBridge(t, `
sources: {in: {type: http, path: /events}}
`)
	c := api(t, b)
	if code, _, m := c.do("PUT", "/v1/sources/busy", fmt.Sprintf(`{"type":"http","path":"/busy","listen":%q}`, taken.Addr().String())); code != 201 {
		t.Fatalf("create source: %d %v", code, m)
	}
	state := func() (string, string, map[string]any) {
		_, _, m := c.do("GET", "/v1/sources", "")
		for _, it := range m["items"].([]any) {
			r := it.(map[string]any)
			if r["name"] == "busy" {
				st := r["status"].(map[string]any)
				e, _ := st["error"].(string)
				comps, _ := st["components"].(map[string]any)
				return st["state"].(string), e, comps
			}
		}
		t.Fatalf("source busy not listed: %v", m)
		return "", "", nil
	}
	testkit.Eventually(t, 15*time.Second, func() bool {
		_, _, comps := state()
		comp, _ := comps["source/busy"].(map[string]any)
		detail, _ := comp["detail"].(map[string]any)
		return comp["state"] == "failed" && detail["restarts"] != nil
	}, "the component did not fail and restart")
	st, reason, _ := state()
	if st != "failed" || !strings.Contains(reason, "source/busy failed") || !strings.Contains(reason, "address already in use") || !strings.Contains(reason, "restarts:") {
		t.Errorf("GET /v1/sources: state %q error %q, want failed with the component's error and restarts", st, reason)
	}
	if _, _, m := c.do("GET", "/v1/sources/busy", ""); m["status"].(map[string]any)["state"] != "failed" {
		t.Errorf("GET /v1/sources/busy: %v", m["status"])
	}
	if _, _, m := c.do("GET", "/v1/sources/in", ""); m["status"].(map[string]any)["state"] != "running" {
		t.Errorf("a healthy source: %v", m["status"])
	}

	// The port is freed: the supervisor starts the source, which runs.
	taken.Close()
	testkit.Eventually(t, 30*time.Second, func() bool { st, _, _ := state(); return st == "running" }, "source not running after its port was freed")
}
