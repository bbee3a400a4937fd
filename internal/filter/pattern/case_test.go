package pattern

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
)

// caseFile is one testdata/*.yaml file: a list of cases.
//
// A valid case gives a pattern and events that must match and must not.
// An invalid case gives a pattern and the errors Compile must return, in
// order: each with its exact path and a substring of its reason.
// Patterns and events are JSON text, so numbers keep their literal form and
// events decode exactly as in production (encoding/json into map[string]any).
type patternCase struct {
	Name    string      `yaml:"name"`
	Source  string      `yaml:"source"` // where the example comes from, if anywhere
	Pattern string      `yaml:"pattern"`
	Match   []string    `yaml:"match"`
	NoMatch []string    `yaml:"nomatch"`
	Errors  []wantError `yaml:"errors"`
}

type wantError struct {
	Path   string `yaml:"path"`
	Reason string `yaml:"reason"`
}

type loadedCase struct {
	patternCase
	file    string
	match   []map[string]any
	nomatch []map[string]any
}

func (c *loadedCase) id() string { return c.file + "/" + c.Name }

// loadCases reads every case file; valid cases come back compiled, with
// their events decoded.
func loadCases(t testing.TB) []*loadedCase {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no case files: %v", err)
	}
	var out []*loadedCase
	for _, fn := range files {
		raw, err := os.ReadFile(fn)
		if err != nil {
			t.Fatal(err)
		}
		var cases []patternCase
		if err := yaml.Unmarshal(raw, &cases); err != nil {
			t.Fatalf("%s: %v", fn, err)
		}
		for _, pc := range cases {
			lc := &loadedCase{patternCase: pc, file: filepath.Base(fn)}
			if pc.Name == "" || pc.Pattern == "" {
				t.Fatalf("%s: a case without a name or pattern: %+v", fn, pc)
			}
			if len(pc.Errors) == 0 {
				if len(pc.Match)+len(pc.NoMatch) == 0 {
					t.Fatalf("%s: valid case without events", lc.id())
				}
				for _, ev := range pc.Match {
					lc.match = append(lc.match, decodeEvent(t, lc.id(), ev))
				}
				for _, ev := range pc.NoMatch {
					lc.nomatch = append(lc.nomatch, decodeEvent(t, lc.id(), ev))
				}
			}
			out = append(out, lc)
		}
	}
	return out
}

func decodeEvent(t testing.TB, id, src string) map[string]any {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal([]byte(src), &ev); err != nil {
		t.Fatalf("%s: bad event %q: %v", id, src, err)
	}
	return ev
}

func TestCases(t *testing.T) {
	valid, invalid := 0, 0
	for _, c := range loadCases(t) {
		t.Run(c.id(), func(t *testing.T) {
			p, err := Compile([]byte(c.Pattern))
			if len(c.Errors) > 0 {
				invalid++
				checkErrors(t, c, err)
				return
			}
			valid++
			if err != nil {
				t.Fatalf("Compile(%s): %v", c.Pattern, err)
			}
			for i, ev := range c.match {
				if !p.Match(ev) {
					t.Errorf("should match event %s", c.Match[i])
				}
			}
			for i, ev := range c.nomatch {
				if p.Match(ev) {
					t.Errorf("should not match event %s", c.NoMatch[i])
				}
			}
		})
	}
	t.Logf("%d valid and %d invalid pattern cases", valid, invalid)
}

func checkErrors(t *testing.T, c *loadedCase, err error) {
	t.Helper()
	if err == nil {
		t.Fatalf("Compile(%s) succeeded; want errors %+v", c.Pattern, c.Errors)
	}
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("error %v is not ErrInvalid", err)
	}
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("error %T is not Errors", err)
	}
	if len(es) != len(c.Errors) {
		t.Fatalf("got %d errors %q; want %d %+v", len(es), err, len(c.Errors), c.Errors)
	}
	for i, w := range c.Errors {
		if es[i].Path != w.Path || !strings.Contains(es[i].Reason, w.Reason) {
			t.Errorf("error %d = {%q, %q}; want path %q and reason containing %q",
				i, es[i].Path, es[i].Reason, w.Path, w.Reason)
		}
	}
}
