package config

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var (
	yamlBlock = regexp.MustCompile("(?s)```yaml\n(.*?)```")
	envRef    = regexp.MustCompile(`\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}`)
)

// TestSourceDocsExamples parses every complete example (a block with a
// top-level "sources:" or "targets:") of the source docs and jobs.md.
func TestSourceDocsExamples(t *testing.T) {
	for _, name := range []string{"GITHUB_TOKEN", "API_TOKEN", "API_KEY", "CLIENT_SECRET", "HELPDESK_KEY", "CRM_CLIENT_SECRET"} {
		t.Setenv(name, "x")
	}
	files, _ := filepath.Glob("../../docs/sources/*.md")
	files = append(files, "../../docs/jobs.md")
	n := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range yamlBlock.FindAllStringSubmatch(string(b), -1) {
			text := m[1]
			if !strings.HasPrefix(text, "sources:") && !strings.HasPrefix(text, "targets:") && !strings.HasPrefix(text, "jobs:") {
				continue
			}
			n++
			for _, ref := range envRef.FindAllStringSubmatch(text, -1) {
				t.Setenv(ref[1], "x-example-value-0123456789")
			}
			if _, err := Parse([]byte(text)); err != nil {
				t.Errorf("%s: example does not parse:\n%s\n%s", f, text, String(err))
			}
		}
	}
	if n < 8 {
		t.Errorf("only %d examples found", n)
	}
}
