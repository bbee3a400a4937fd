package eventtypes_test

import (
	"testing"

	"github.com/eventbridge-dev/eventbridge/internal/bus/bustest"
	"github.com/eventbridge-dev/eventbridge/internal/eventtypes"
)

// TestSurvivesReopen: what a catalog saw is in the bucket after Close, and
// a catalog opened on the same bus starts from it.
func TestSurvivesReopen(t *testing.T) {
	b := bustest.New(t)
	c, err := eventtypes.Open(bustest.Context(t), b, bustest.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"1", "2", "3"} {
		c.Observe(bustest.Event(id, "order.created"))
	}
	c.Observe(bustest.Event("4", "order.paid"))
	c.Close() // saves

	c2, err := eventtypes.Open(bustest.Context(t), b, bustest.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	types, overflow := c2.List()
	if overflow != 0 || len(types) != 2 {
		t.Fatalf("reopened catalog: %+v (overflow %d), want 2 types", types, overflow)
	}
	created := types[0]
	if created.Source != "bustest" || created.Type != "order.created" || created.Count != 3 || created.Samples != 3 || created.Schema == nil {
		t.Fatalf("order.created after reopen: %+v", created)
	}
	if types[1].Type != "order.paid" || types[1].Count != 1 {
		t.Fatalf("order.paid after reopen: %+v", types[1])
	}
}
