package attrtemplate

import (
	"errors"
	"strings"
	"testing"

	ce "github.com/cloudevents/sdk-go/v2/event"
)

func testEvent() *ce.Event {
	e := ce.New()
	e.SetID("1")
	e.SetSource("/s")
	e.SetType("order.created")
	e.SetExtension("partitionkey", "k1")
	e.SetExtension("region", "eu")
	e.SetExtension("n", 7)
	return &e
}

func TestRender(t *testing.T) {
	e := testEvent()
	for _, c := range []struct{ tmpl, want, missing, orEmpty string }{
		{"", "", "", ""},
		{"events", "events", "", "events"},
		{"static.key", "static.key", "", "static.key"},
		{"events.{type}", "events.order.created", "", "events.order.created"},
		{"{partitionkey}-{n}", "k1-7", "", "k1-7"},
		{"{region}.{type}.x", "eu.order.created.x", "", "eu.order.created.x"},
		{"{{literal}}.{id}", "{literal}.1", "", "{literal}.1"},
		{"a{{b}}", "a{b}", "", "a{b}"},
		{"x.{subject}", "", "subject", "x."},
		{"{region}/{subject}/{id}", "", "subject", "eu//1"},
		{"{datacontenttype}", "", "datacontenttype", ""},
	} {
		tm, err := Parse(c.tmpl)
		if err != nil {
			t.Fatalf("%s: %v", c.tmpl, err)
		}
		got, err := tm.Render(e)
		if c.missing != "" {
			var me *MissingError
			if !errors.Is(err, ErrMissingAttribute) || !errors.As(err, &me) || me.Attr != c.missing || got != "" {
				t.Errorf("%q: got %q, %v; want missing %s", c.tmpl, got, err, c.missing)
			}
		} else if err != nil || got != c.want {
			t.Errorf("%q: got %q, %v; want %q", c.tmpl, got, err, c.want)
		}
		got, err = tm.OrEmpty().Render(e)
		if err != nil || got != c.orEmpty {
			t.Errorf("%q OrEmpty: got %q, %v; want %q", c.tmpl, got, err, c.orEmpty)
		}
		if tm.String() != c.tmpl {
			t.Errorf("String() = %q, want %q", tm.String(), c.tmpl)
		}
	}
	// An empty-valued attribute is missing, like an absent one.
	e.SetExtension("empty", "")
	if _, err := MustParse("a.{empty}").Render(e); !errors.Is(err, ErrMissingAttribute) {
		t.Errorf("empty extension: %v", err)
	}
	if s, err := (Template{}).Render(e); s != "" || err != nil {
		t.Error("the zero template must render empty")
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct{ tmpl, err string }{
		{"{Type}", "not an attribute name"},
		{"a/{Type}", "not an attribute name"},
		{"{}", "not an attribute name"},
		{"{a-b}", "not an attribute name"},
		{"{type", "unclosed"},
		{"a{", "unclosed"},
		{"type}", "without {"},
		{"a}", "without {"},
	} {
		if _, err := Parse(c.tmpl); err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%q: error %v, want %q", c.tmpl, err, c.err)
		}
	}
}

func TestStatic(t *testing.T) {
	if s, ok := MustParse("plain").Static(); !ok || s != "plain" {
		t.Error("Static")
	}
	if s, ok := MustParse("a{{b}}").Static(); !ok || s != "a{b}" {
		t.Errorf("Static with escapes: %q", s)
	}
	if _, ok := MustParse("{id}").Static(); ok {
		t.Error("Static with a placeholder")
	}
	if MustParse("plain").HasPlaceholders() || !MustParse("x.{id}").HasPlaceholders() {
		t.Error("HasPlaceholders")
	}
	if !(Template{}).IsZero() || MustParse("x").IsZero() {
		t.Error("IsZero")
	}
}
