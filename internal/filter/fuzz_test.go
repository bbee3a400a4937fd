package filter

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/goccy/go-yaml"
)

// FuzzCESQL compiles arbitrary expressions and evaluates those that compile
// against an event with attributes and extensions of every type: neither
// may panic or run long, and Match must agree with Evaluate. Seeded with
// every expression of the CESQL test kit.
func FuzzCESQL(f *testing.F) {
	files, _ := filepath.Glob("testdata/cesql-tck/*.yaml")
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		var tf tckFile
		if err := yaml.Unmarshal(raw, &tf); err != nil {
			f.Fatalf("%s: %v", file, err)
		}
		for _, tc := range tf.Tests {
			f.Add(tc.Expression)
		}
	}
	e := ce.New()
	e.SetID("1")
	e.SetSource("/fuzz")
	e.SetType("com.example.fuzz")
	e.SetSubject("subject")
	e.SetTime(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC))
	e.SetDataSchema("https://example.com/schema")
	e.SetExtension("str", "text")
	e.SetExtension("num", "42")
	e.SetExtension("int", int32(-7))
	e.SetExtension("flag", true)
	e.SetExtension("empty", "")
	_ = e.SetData("application/json", map[string]any{"a": 1})
	f.Fuzz(func(t *testing.T, expr string) {
		done := make(chan struct{})
		go func() {
			defer close(done)
			s, err := CompileSQL(expr)
			if err != nil {
				return
			}
			in := NewInput(&e)
			v, err := s.Evaluate(in)
			if want := err == nil && v == true; s.Match(in) != want {
				t.Errorf("%q: Match %v, but Evaluate gave %v, %v", expr, !want, v, err)
			}
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("%q: compiling and evaluating took over 10s", expr)
		}
	})
}
