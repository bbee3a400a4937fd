package api

import (
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const apiModule = "github.com/eventbridge-dev/eventbridge/"

// apiMayImport are the bridge's packages (paths from the module root) that
// the API's non-test files may import, and why. The API asks the store,
// the controller and the operations service through interfaces it declares
// (ports.go) and does not drive components itself (docs/architecture.md,
// "Layers"); what it imports beyond its own subpackages is leaves, types
// and errors. The list is exact: add a package only with a reason, and
// remove one the API no longer imports.
var apiMayImport = map[string]string{
	"internal/activity":             "the Report of /v1/activity (a leaf)",
	"internal/api/credential":       "its own: credential checks",
	"internal/api/problem":          "its own: problem documents",
	"internal/bus":                  "the archive reads of /v1/events; ErrStorageFull",
	"internal/eventtypes":           "the EventType of /v1/eventtypes",
	"internal/component":            "the components' health in a resource's status",
	"internal/connector":            "the registry of source and target types, to check specs",
	"internal/controller/runstatus": "the status the controller reports (a leaf)",
	"internal/deadletter":           "the Letter and Filter types of the DLQ endpoints",
	"internal/event":                "CloudEvents of /v1/events",
	"internal/jobs/jobapi":          "the Info types and errors of /v1/jobs (a leaf)",
	"internal/lifecycle":            "the name of the lifecycle source, kept from API callers",
	"internal/netguard":             "the SSRF checks of addresses API callers set",
	"internal/operations":           "the View of operations; ErrConflict, ErrNotFound",
	"internal/oran":                 "the PubSub type and names of /v1/oran:import",
	"internal/resource":             "the resource model",
	"internal/ruletest":             "POST /v1/rules:test evaluates a rule on sample events (a pure function)",
	"internal/spec":                 "validation problems; secrets",
	"internal/state":                "the Entry and Query types of /v1/state",
	"internal/desired":              "the store's errors (ErrNotFound, ErrConflict)",
	"internal/subscription":         "validation of subscriptions",
	"internal/telemetry":            "the loggers of /v1/loggers",
}

// apiMustNotDependOn are packages the API must not depend on, directly or
// not: the machinery that runs events and operations.
var apiMustNotDependOn = []string{
	"internal/controller",
	"internal/router",
	"internal/delivery",
	"internal/jobs",
	"internal/replay",
	"internal/opsvc",
	"internal/server",
}

func TestAPIImportsOnlyWhatItMay(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			rel, ok := strings.CutPrefix(p, apiModule)
			if !ok {
				continue
			}
			used[rel] = true
			if _, ok := apiMayImport[rel]; !ok {
				t.Errorf("%s imports %s: the API may import only the packages in apiMayImport; ask the component through an interface in ports.go, or add it there with a reason", name, rel)
			}
		}
	}
	for p := range apiMayImport {
		if !used[p] {
			t.Errorf("the API no longer imports %s: remove it from apiMayImport", p)
		}
	}
	if len(used) == 0 {
		t.Fatal("found no imports of the bridge's packages: the check reads nothing")
	}
}

func TestAPIDoesNotDependOnTheMachinery(t *testing.T) {
	deps := func(pkg string) []string {
		out, err := exec.Command("go", "list", "-deps", apiModule+pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		return strings.Fields(string(out))
	}
	// The check must be able to fail: the operations service depends on
	// replay, and through it on delivery.
	if d := deps("internal/opsvc"); !slices.Contains(d, apiModule+"internal/replay") || !slices.Contains(d, apiModule+"internal/delivery") {
		t.Fatal("go list -deps internal/opsvc shows no replay and delivery: the check below would prove nothing")
	}
	d := deps("internal/api")
	for _, p := range apiMustNotDependOn {
		if slices.Contains(d, apiModule+p) {
			t.Errorf("the API depends on %s (go list -deps ./internal/api): it must ask through an interface in ports.go", p)
		}
	}
}
