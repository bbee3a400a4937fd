package resource_test

import (
	"os/exec"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/eventbridge-dev/eventbridge/"

// leaves are the packages that describe and validate events and resources.
// Everything that reads a spec imports them, so they must not depend on
// anything that starts servers or talks to the bus (docs/architecture.md,
// "Layers").
var leaves = []string{
	"internal/resource",
	"internal/spec",
	"internal/event",
	"internal/filter",
	"internal/transform",
	"internal/delivery/policy",
	"internal/jobs/jobapi",
}

// forbidden are import paths (or prefixes ending in "/") a leaf must not
// depend on, directly or not.
var forbidden = []string{
	"github.com/nats-io/nats-server/",
	"github.com/nats-io/nats.go",
	module + "internal/bus",
	module + "internal/delivery",
	module + "internal/jobs",
	module + "internal/router",
	module + "internal/controller",
	module + "internal/server",
	module + "internal/api",
}

func isForbidden(pkg string) bool {
	for _, f := range forbidden {
		if pkg == f || strings.HasPrefix(pkg, strings.TrimSuffix(f, "/")+"/") {
			if pkg == module+"internal/delivery/policy" || pkg == module+"internal/jobs/jobapi" {
				return false // the leaves carved out of delivery and jobs
			}
			return true
		}
	}
	return false
}

// deps returns, for every package pkg depends on (pkg included), the
// packages it imports.
func deps(t *testing.T, pkg string) map[string][]string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}{{range .Imports}} {{.}}{{end}}", pkg).Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("go list -deps %s: %v\n%s", pkg, err, msg)
	}
	m := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) > 0 {
			m[f[0]] = f[1:]
		}
	}
	if _, ok := m[pkg]; !ok {
		t.Fatalf("go list -deps %s did not list the package itself:\n%s", pkg, out)
	}
	return m
}

func fullPath(p string) string {
	if strings.HasPrefix(p, "internal/") {
		return module + p
	}
	return p
}

// path returns an import chain from pkg to target, for the failure message.
func path(m map[string][]string, pkg, target string) []string {
	prev := map[string]string{pkg: ""}
	queue := []string{pkg}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if p == target {
			var chain []string
			for ; p != ""; p = prev[p] {
				chain = append([]string{strings.TrimPrefix(p, module)}, chain...)
			}
			return chain
		}
		for _, q := range m[p] {
			if _, seen := prev[q]; !seen {
				prev[q] = p
				queue = append(queue, q)
			}
		}
	}
	return nil
}

func TestLeafPackagesDoNotDependOnTheBus(t *testing.T) {
	// The check must be able to fail: the bus itself depends on the
	// NATS server.
	if m := deps(t, module+"internal/bus"); path(m, module+"internal/bus", "github.com/nats-io/nats-server/v2/server") == nil {
		t.Fatal("go list -deps internal/bus does not show nats-server: the check below would prove nothing")
	}
	for _, leaf := range leaves {
		m := deps(t, module+leaf)
		var bad []string
		for p := range m {
			if !isForbidden(p) {
				continue
			}
			chain := path(m, module+leaf, p)
			// Name only the first forbidden step of each chain.
			if len(chain) >= 2 && isForbidden(fullPath(chain[len(chain)-2])) {
				continue
			}
			bad = append(bad, strings.Join(chain, " -> "))
		}
		sort.Strings(bad)
		for _, b := range bad {
			t.Errorf("%s must not depend on the bus or a server: %s", leaf, b)
		}
	}
}
