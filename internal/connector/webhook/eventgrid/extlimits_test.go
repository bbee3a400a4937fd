package eventgrid

import (
	"fmt"
	"strings"
	"testing"

	"github.com/eventbridge-dev/eventbridge/internal/connector/webhook/webhooktest"
)

// withExtensions is a CloudEvents-schema event with n extensions.
func withExtensions(n int) string {
	var b strings.Builder
	b.WriteString(`{"specversion":"1.0","id":"1","source":"/s","type":"t"`)
	for i := range n {
		fmt.Fprintf(&b, `,"x%d":"v"`, i)
	}
	b.WriteString("}")
	return b.String()
}

// An event with more extensions than max_extensions (100 by default) is
// refused 400 too-many-extensions naming the setting, and nothing of the
// request is stored; 100 pass.
func TestTooManyExtensions(t *testing.T) {
	const ct = "application/cloudevents+json"
	f := newFixture(t, plain)
	w := f.Post([]byte(withExtensions(101)), "Content-Type", ct)
	p := webhooktest.WantProblem(t, w, 400, "too-many-extensions")
	if !strings.Contains(p.Detail, "max_extensions") || len(p.Errors) != 1 || p.Errors[0].Field != "max_extensions" {
		t.Fatalf("problem %+v does not name max_extensions", p)
	}
	batch := "[" + withExtensions(1) + "," + strings.Replace(withExtensions(101), `"id":"1"`, `"id":"2"`, 1) + "]"
	w = f.Post([]byte(batch), "Content-Type", "application/cloudevents-batch+json")
	p = webhooktest.WantProblem(t, w, 400, "too-many-extensions")
	if len(p.Errors) != 1 || p.Errors[0].Index == nil || *p.Errors[0].Index != 1 {
		t.Fatalf("problem %+v does not name entry 1", p)
	}
	if f.Col.Count() != 0 {
		t.Fatalf("%d events stored", f.Col.Count())
	}
	if got := f.Rejected("eg", "extensions"); got != 2 {
		t.Fatalf("rejected{reason=extensions} = %v, want 2", got)
	}
	webhooktest.WantStatus(t, f.Post([]byte(withExtensions(100)), "Content-Type", ct), 202)

	small := newFixture(t, `{"type":"azure-eventgrid","max_extensions":200,"max_extension_size":"1KiB"}`)
	big := strings.Replace(withExtensions(1), `"x0":"v"`, `"x0":"`+strings.Repeat("v", 1100)+`"`, 1)
	p = webhooktest.WantProblem(t, small.Post([]byte(big), "Content-Type", ct), 400, "too-many-extensions")
	if !strings.Contains(p.Detail, "max_extension_size") {
		t.Fatalf("problem %+v does not name max_extension_size", p)
	}
}
