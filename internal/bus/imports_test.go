package bus

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// natsAllowed are the packages (paths from the module root) whose non-test
// files may import the NATS client or server. internal/bus is the only door
// to the bridge's own streams and buckets (see docs/architecture.md);
// besides it, only code that speaks NATS to a user's broker and tools may.
var natsAllowed = map[string]string{
	"internal/bus":            "the door itself",
	"internal/connector/nats": "speaks NATS and JetStream to user brokers",
	"pkg/cloudsync/natsjs":    "the cloudsync transport over a user's JetStream",
	"bench/cmd/benchrun":      "benchmark tool",
	"internal/bus/bustest":    "test helper: an embedded bus for package tests",
}

// natsToMove are packages that still hold raw JetStream or NATS handles of
// the bus. The list only shrinks, and is empty now: every package reaches
// the bridge's streams and buckets through bus types (the test fails when
// an entry no longer imports NATS).
var natsToMove = []string{}

func isNATS(path string) bool {
	return strings.HasPrefix(path, "github.com/nats-io/nats.go") || strings.HasPrefix(path, "github.com/nats-io/nats-server")
}

// natsImporters walks the module from root and returns the packages (as
// directories relative to root) whose non-test Go files import NATS.
func natsImporters(t *testing.T, root string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != root && (name == "testdata" || name == "vendor" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			if path != root {
				if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
					return filepath.SkipDir // another module
				}
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if isNATS(p) {
				rel, _ := filepath.Rel(root, filepath.Dir(path))
				out[filepath.ToSlash(rel)] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestOnlyTheBusImportsNATS guards the rule that internal/bus is the only
// door to JetStream: a package outside the allow-list that imports the
// NATS client fails it.
func TestOnlyTheBusImportsNATS(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found: %v", err)
	}
	got := natsImporters(t, root)
	if !got["internal/bus"] {
		t.Fatal("the walk did not see internal/bus import NATS: the check is broken")
	}
	for pkg := range got {
		if _, ok := natsAllowed[pkg]; ok || slices.Contains(natsToMove, pkg) {
			continue
		}
		t.Errorf("%s imports the NATS client: use the typed operations of internal/bus instead (docs/architecture.md)", pkg)
	}
	for _, pkg := range natsToMove {
		if !got[pkg] {
			t.Errorf("%s no longer imports NATS: remove it from natsToMove", pkg)
		}
	}
}
