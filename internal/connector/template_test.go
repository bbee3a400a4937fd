package connector

import (
	"strings"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
)

func TestTemplate(t *testing.T) {
	e := ce.New()
	e.SetID("1")
	e.SetSource("/s")
	e.SetType("com.example.order")
	e.SetExtension("region", "eu")
	cases := []struct{ tmpl, want, err string }{
		{"", "", ""},
		{"static.key", "static.key", ""},
		{"orders.{type}", "orders.com.example.order", ""},
		{"{region}/{subject}/{id}", "eu//1", ""},
		{"{{literal}}.{type}", "{literal}.com.example.order", ""},
		{"{Type}", "", "not an attribute name"},
		{"{type", "", "unclosed"},
		{"type}", "", "without {"},
	}
	for _, c := range cases {
		tm, err := ParseTemplate(c.tmpl)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: error %v, want %q", c.tmpl, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%q: %v", c.tmpl, err)
		}
		if got := tm.Render(&e); got != c.want {
			t.Errorf("%q rendered %q, want %q", c.tmpl, got, c.want)
		}
	}
	if (Template{}).Render(&e) != "" {
		t.Error("the zero template must render empty")
	}
}

func TestBackoff(t *testing.T) {
	b := Backoff{Min: 100 * time.Millisecond, Max: time.Second}
	var last time.Duration
	for i := 0; i < 10; i++ {
		d := b.Next()
		if d <= 0 || d > time.Second {
			t.Fatalf("step %d: %v outside (0, 1s]", i, d)
		}
		last = d
	}
	if last < 800*time.Millisecond {
		t.Fatalf("did not reach the maximum: %v", last)
	}
	b.Reset()
	if d := b.Next(); d > 100*time.Millisecond {
		t.Fatalf("after Reset: %v", d)
	}
}
