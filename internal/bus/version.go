package bus

import (
	"fmt"
	"strconv"
	"strings"
)

// MinServerVersion is the oldest nats-server an external bus (bus.url) may
// run: the oldest release the bridge is tested against (Debian 12's
// nats-server). The bus relies on 2.9 features (direct gets of the state
// bucket among them); older releases are not tested, so they are refused.
const MinServerVersion = "2.9.10"

// TestedServerVersions are the nats-server releases the bridge is tested
// against, for docs and messages.
const TestedServerVersions = "2.9.10 (the oldest supported) and 2.15.2 (the embedded server's)"

// ErrServerVersion is returned by Open when the external NATS server is
// older than MinServerVersion.
var ErrServerVersion = fmt.Errorf("bus: unsupported NATS server version")

// checkServerVersion refuses a server older than MinServerVersion; v is
// the version its INFO announced.
func checkServerVersion(v, url string) error {
	got, ok := parseVersion(v)
	if !ok {
		return fmt.Errorf("%w: the server at %s announces version %q, which cannot be read; eventbridge needs nats-server %s or later", ErrServerVersion, url, v, MinServerVersion)
	}
	want, _ := parseVersion(MinServerVersion)
	if compareVersions(got, want) < 0 {
		return fmt.Errorf("%w: the server at %s runs nats-server %s; eventbridge needs %s or later (tested: %s)", ErrServerVersion, url, v, MinServerVersion, TestedServerVersions)
	}
	return nil
}

// parseVersion reads "major.minor.patch", with an optional leading "v" and
// a pre-release or build suffix after '-' or '+' (ignored).
func parseVersion(v string) ([3]int, bool) {
	var out [3]int
	v = strings.TrimPrefix(strings.TrimSpace(v), "v")
	if i := strings.IndexAny(v, "-+"); i >= 0 {
		v = v[:i]
	}
	parts := strings.Split(v, ".")
	if len(parts) != 3 {
		return out, false
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return out, false
		}
		out[i] = n
	}
	return out, true
}

func compareVersions(a, b [3]int) int {
	for i := range a {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}
