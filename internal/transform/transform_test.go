package transform

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

func ev() *ce.Event {
	e := ce.New()
	e.SetID("1")
	e.SetSource("/s")
	e.SetType("t.created")
	_ = e.SetData("application/json", map[string]any{"total": 42, "items": []string{"a", "b"}})
	return &e
}

func TestJQ(t *testing.T) {
	cases := []struct {
		name, jq  string
		wantData  string
		wantType  string
		wantError string
	}{
		{name: "data from the form", jq: `{t: .data.total, n: (.data.items | length)}`, wantData: `{"n":2,"t":42}`, wantType: "t.created"},
		{name: "scalar", jq: `.data.total * 2`, wantData: `84`, wantType: "t.created"},
		{name: "whole event", jq: `{specversion: "1.0", id: .id, source: "/new", type: "t.audited", data: {x: 1}}`, wantData: `{"x":1}`, wantType: "t.audited"},
		{name: "invalid whole event", jq: `{specversion: "1.0", id: "", source: "/new", type: "x"}`, wantError: "id"},
		{name: "runtime error", jq: `.data.total | ascii_downcase`, wantError: "jq:"},
		{name: "no output", jq: `empty`, wantError: "no output"},
		{name: "no environment", jq: `$ENV | length`, wantData: `0`, wantType: "t.created"},
		{name: "env builtin", jq: `env | length`, wantData: `0`, wantType: "t.created"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr, err := Compile(Spec{JQ: c.jq})
			if err != nil {
				t.Fatalf("compile: %v", err)
			}
			out, err := tr.Apply(context.Background(), ev())
			if c.wantError != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantError) {
					t.Fatalf("error %v, want %q", err, c.wantError)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got, want any
			_ = json.Unmarshal(out.Data(), &got)
			_ = json.Unmarshal([]byte(c.wantData), &want)
			gb, _ := json.Marshal(got)
			wb, _ := json.Marshal(want)
			if string(gb) != string(wb) || out.Type() != c.wantType {
				t.Fatalf("got %s type %s; want %s type %s", out.Data(), out.Type(), c.wantData, c.wantType)
			}
			if js, _ := out.MarshalJSON(); strings.Contains(string(js), "data_base64") {
				t.Fatalf("JSON output carried as base64: %s", js)
			}
			if c.name != "whole event" && out.DataContentType() != "application/json" {
				t.Fatalf("datacontenttype %q", out.DataContentType())
			}
		})
	}
}

func TestJQLimits(t *testing.T) {
	if _, err := Compile(Spec{JQ: "{a: }"}); err == nil || !strings.Contains(err.Error(), "line 1, column") {
		t.Fatalf("parse error: %v", err)
	}
	for _, q := range []string{"input", "inputs", `import "x" as x; .`, `include "x"; .`} {
		if _, err := Compile(Spec{JQ: q}); err == nil {
			t.Errorf("%q compiled: programs must not read other inputs or files", q)
		}
	}
	slow, _ := Compile(Spec{JQ: `[range(1e9)] | length`, Timeout: spec.Duration(50 * time.Millisecond)})
	start := time.Now()
	if _, err := slow.Apply(context.Background(), ev()); err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Fatalf("timeout: %v", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Fatal("timeout not enforced promptly")
	}
	big, _ := Compile(Spec{JQ: `[range(2000)]`, MaxOutput: 1024, Timeout: spec.Duration(5 * time.Second)})
	if _, err := big.Apply(context.Background(), ev()); err == nil || !strings.Contains(err.Error(), "over the limit") {
		t.Fatalf("size: %v", err)
	}
	if tr, err := Compile(Spec{}); tr != nil || err != nil {
		t.Fatal("empty spec must compile to nil")
	}
}
