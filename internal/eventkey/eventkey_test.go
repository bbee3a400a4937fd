package eventkey

import (
	"strings"
	"testing"

	ce "github.com/cloudevents/sdk-go/v2/event"
)

func testEvent(t *testing.T) *ce.Event {
	t.Helper()
	e := ce.New()
	e.SetID("1")
	e.SetSource("/gh")
	e.SetType("push")
	e.SetExtension("githubdelivery", "abc-123")
	if err := e.SetData(ce.ApplicationJSON, map[string]any{"order": 7, "name": "x", "none": nil}); err != nil {
		t.Fatal(err)
	}
	return &e
}

func TestOf(t *testing.T) {
	e := testEvent(t)
	for _, c := range []struct {
		expr, key string
		ok        bool
	}{
		{"id", "1", true},
		{"githubdelivery", "abc-123", true},
		{"subject", "", false},
		{"missing", "", false},
		{".data.name", "x", true},
		{".data.order", "7", true},
		{".data.none", "", false},
		{".data", `{"name":"x","none":null,"order":7}`, true},
		{"[.source, .data.order]", `["/gh",7]`, true},
		{"empty", "", false},
		{".data.order > 100", "", false},
	} {
		k, err := Compile(c.expr)
		if err != nil {
			t.Fatalf("%s: %v", c.expr, err)
		}
		key, ok, err := k.Of(e)
		if err != nil || key != c.key || ok != c.ok {
			t.Errorf("%s: got (%q, %v, %v), want (%q, %v)", c.expr, key, ok, err, c.key, c.ok)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	for expr, want := range map[string]string{
		"":                        "required",
		".data.[":                 "not an attribute name, and not jq",
		strings.Repeat("a", 2000): "at most",
		"$undefined":              "jq",
	} {
		if _, err := Compile(expr); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Compile(%.20q) = %v, want an error with %q", expr, err, want)
		}
	}
}

func TestRuntimeError(t *testing.T) {
	k, err := Compile(".data.name | tonumber")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := k.Of(testEvent(t)); err == nil {
		t.Fatal("want a jq error")
	}
}
