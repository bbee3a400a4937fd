package attrtemplate

import (
	"testing"

	ce "github.com/cloudevents/sdk-go/v2/event"
)

func TestTemplates(t *testing.T) {
	e := ce.New()
	e.SetID("1")
	e.SetSource("/s")
	e.SetType("order.created")
	e.SetExtension("partitionkey", "k1")
	e.SetExtension("n", 7)
	for _, c := range []struct{ tmpl, want, missing string }{
		{"events", "events", ""},
		{"events.{type}", "events.order.created", ""},
		{"{partitionkey}-{n}", "k1-7", ""},
		{"{{literal}}.{id}", "{literal}.1", ""},
		{"x.{subject}", "", "subject"},
	} {
		tm, err := Parse(c.tmpl)
		if err != nil {
			t.Fatalf("%s: %v", c.tmpl, err)
		}
		got, missing, ok := tm.Execute(&e)
		if got != c.want || missing != c.missing || ok != (c.missing == "") {
			t.Errorf("%s: got %q, %q, %v", c.tmpl, got, missing, ok)
		}
	}
	for _, bad := range []string{"a{", "a}", "{Type}", "{}", "{a-b}"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	if s, ok := MustParse("plain").Static(); !ok || s != "plain" {
		t.Error("Static")
	}
	if _, ok := MustParse("{id}").Static(); ok {
		t.Error("Static with a placeholder")
	}
}
