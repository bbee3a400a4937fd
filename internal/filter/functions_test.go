package filter

import (
	"strings"
	"testing"

	ce "github.com/cloudevents/sdk-go/v2/event"
)

func TestRegisterFunction(t *testing.T) {
	err := RegisterFunction(SQLFunction{Name: "ebtest_suffix", Args: []SQLType{SQLString, SQLString}, Returns: SQLBoolean,
		Run: func(_ ce.Event, a []any) (any, error) { return strings.HasSuffix(a[0].(string), a[1].(string)), nil }})
	if err != nil {
		t.Fatal(err)
	}
	f, cerr := Compile(Spec{SQL: "EBTEST_SUFFIX(type, '.created')"})
	if cerr != nil {
		t.Fatal(cerr)
	}
	e := ce.New()
	e.SetID("1")
	e.SetSource("/t")
	e.SetType("com.example.order.created")
	if !f.Match(NewInput(&e)) {
		t.Error("registered function: want a match")
	}
	e.SetType("com.example.order.deleted")
	if f.Match(NewInput(&e)) {
		t.Error("registered function: want no match")
	}

	run := func(ce.Event, []any) (any, error) { return true, nil }
	for name, bad := range map[string]SQLFunction{
		"same name and arity": {Name: "EBTEST_SUFFIX", Args: []SQLType{SQLString, SQLString}, Returns: SQLBoolean, Run: run},
		"built-in":            {Name: "LOWER", Args: []SQLType{SQLString}, Returns: SQLString, Run: run},
		"bad name":            {Name: "has-prefix", Returns: SQLBoolean, Run: run},
		"nil Run":             {Name: "EBTEST_NIL", Returns: SQLBoolean},
	} {
		if err := RegisterFunction(bad); err == nil {
			t.Errorf("%s: registered; want an error", name)
		}
	}
}
