// Package version holds the build's identity, set by the Makefile with
// -ldflags "-X ...".
package version

import "encoding/json"

// Set at build time.
var (
	Version = "dev"
	Build   = "unknown"
	GitTag  = "unknown"
)

// Info is what `eventbridge version` prints.
type Info struct {
	Version string
	Build   string
	GitTag  string
}

// Get returns the build's identity.
func Get() Info { return Info{Version: Version, Build: Build, GitTag: GitTag} }

// JSON returns Get() as one line of JSON.
func JSON() string {
	b, _ := json.Marshal(Get())
	return string(b)
}
