package connector

import (
	"errors"
	"testing"

	ce "github.com/cloudevents/sdk-go/v2/event"
)

func TestDestination(t *testing.T) {
	e := ce.New()
	e.SetID("1")
	e.SetSource("/s")
	e.SetType("com.example.t")
	e.SetExtension("region", "eu")
	for _, c := range []struct{ tmpl, want, err string }{
		{"events/{type}", "events/com.example.t", ""},
		{"{region}.{type}.x", "eu.com.example.t.x", ""},
		{"plain", "plain", ""},
		{"a{{b}}", "a{b}", ""},
		{"a/{subject}", "", "missing"},
		{"a/{Type}", "", "parse"},
		{"a/{type", "", "parse"},
		{"a}", "", "parse"},
	} {
		tm, err := ParseDestination(c.tmpl)
		if c.err == "parse" {
			if err == nil {
				t.Errorf("%q: parsed", c.tmpl)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%q: %v", c.tmpl, err)
		}
		got, err := tm.Render(&e)
		if c.err == "missing" {
			if !errors.Is(err, ErrMissingAttribute) {
				t.Errorf("%q: %q %v", c.tmpl, got, err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%q: %q %v, want %q", c.tmpl, got, err, c.want)
		}
	}
}
