package filter

import (
	"testing"

	ce "github.com/cloudevents/sdk-go/v2/event"
)

// TestInputReleaseLeavesNothingBehind: an attribute form given back with
// Release and reused by a later Input holds only the later event's
// attributes.
func TestInputReleaseLeavesNothingBehind(t *testing.T) {
	m, err := NewMatcher([]Rule{{Name: "no-subject", Spec: Spec{Pattern: map[string]any{"subject": []any{map[string]any{"exists": false}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		e := ce.New()
		e.SetID("1")
		e.SetSource("/s")
		e.SetType("t")
		withSubject := i%2 == 0
		if withSubject {
			e.SetSubject("s")
			e.SetExtension("ext", "v")
		}
		in := NewInput(&e)
		got := m.Match(in, nil)
		attrs := in.FormAttributes()
		if _, ok := attrs["ext"]; ok != withSubject {
			t.Fatalf("event %d: ext present %v, want %v (%v)", i, ok, withSubject, attrs)
		}
		in.Release()
		if matched := len(got) == 1; matched == withSubject {
			t.Fatalf("event %d (subject %v): matched %v", i, withSubject, matched)
		}
	}
}
