package server_test

import (
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
)

// Every eventbridge_* series carries the replica label: instance.replica,
// or <instance.name>-<pid> by default, so that replicas on one host are
// told apart.
func TestMetricsReplicaLabel(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"instance: {name: node-a, replica: r1}\n", `instance="node-a",replica="r1"`},
		{"instance: {name: node-b}\n", `instance="node-b",replica="node-b-` + strconv.Itoa(os.Getpid()) + `"`},
	} {
		b := startBridge(t, tc.yaml)
		resp, err := http.Get("http://" + b.Addr() + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
		resp.Body.Close()
		var info string
		for _, line := range strings.Split(string(body), "\n") {
			if strings.HasPrefix(line, "eventbridge_build_info{") {
				info = line
			}
		}
		if !strings.Contains(info, tc.want) {
			t.Errorf("%q: build info %q, want labels %s", tc.yaml, info, tc.want)
		}
	}
}
