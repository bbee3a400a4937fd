package eventbridge_test

import (
	"strings"
	"testing"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventbridge-dev/eventbridge/internal/filter"
	"github.com/eventbridge-dev/eventbridge/pkg/eventbridge"
)

func TestRegisterSQLFunction(t *testing.T) {
	err := eventbridge.RegisterSQLFunction(eventbridge.SQLFunction{
		Name: "PKGTEST_CONTAINS", Args: []eventbridge.SQLType{eventbridge.SQLString, eventbridge.SQLString},
		Returns: eventbridge.SQLBoolean,
		Run: func(_ ce.Event, a []any) (any, error) {
			return strings.Contains(a[0].(string), a[1].(string)), nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	f, cerr := filter.Compile(filter.Spec{SQL: "pkgtest_contains(source, 'shop')"})
	if cerr != nil {
		t.Fatal(cerr)
	}
	e := ce.New()
	e.SetID("1")
	e.SetType("t")
	e.SetSource("/eu/shop/1")
	if !f.Match(filter.NewInput(&e)) {
		t.Error("want a match through the registered function")
	}
	e.SetSource("/eu/bank/1")
	if f.Match(filter.NewInput(&e)) {
		t.Error("want no match")
	}
}
