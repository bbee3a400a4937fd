package brokertest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// SpecExample reads one of a binding spec's message illustrations,
// testdata/bindings/spec-examples/name: a line "--- header ---" starts
// section "header", blank and "..." placeholder lines are left out, and
// each other line is given to line, trimmed, with its section, except
// those of section "payload", which SpecExample returns joined as they
// are.
func SpecExample(t *testing.T, name string, line func(section, trimmed string)) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "bindings", "spec-examples", name))
	if err != nil {
		t.Fatal(err)
	}
	section := ""
	var payload []string
	for _, l := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(trimmed, "---"):
			section = strings.Trim(trimmed, "- ")
		case trimmed == "" || strings.HasPrefix(trimmed, "..."):
		case section == "payload":
			payload = append(payload, l)
		default:
			line(section, trimmed)
		}
	}
	return []byte(strings.Join(payload, "\n"))
}
