package config

import (
	"strings"
	"testing"
)

// A rule's ordering is read from the file, and a bad key is reported with
// its line and path.
func TestRuleOrdering(t *testing.T) {
	c, err := Parse([]byte("targets:\n  t: {type: log}\nrules:\n  r:\n    targets: [t]\n    ordering: {key: partitionkey}\n"))
	if err != nil {
		t.Fatal(String(err))
	}
	if o := c.Rules["r"].Ordering; o == nil || o.Key != "partitionkey" {
		t.Errorf("ordering = %+v, want key partitionkey", o)
	}
	_, err = Parse([]byte("targets:\n  t: {type: log}\nrules:\n  r:\n    targets: [t]\n    ordering: {key: '.data |'}\n"))
	if err == nil {
		t.Fatal("a bad ordering key was accepted")
	}
	if got := String(err); !strings.Contains(got, "line 6: rules.r.ordering.key: not an attribute name, and not jq") {
		t.Errorf("error %q, want the line and path of the key", got)
	}
}
