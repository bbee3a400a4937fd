package transform

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
)

// ec2 is the EC2 example event of the EventBridge documentation, carried
// as a CloudEvent: detail is the data.
func ec2() *ce.Event {
	e := ce.New()
	e.SetID("7bf73129-1428-4cd3-a780-95db273d1602")
	e.SetSource("aws.ec2")
	e.SetType("EC2 Instance State-change Notification")
	e.SetTime(time.Date(2015, 11, 11, 21, 29, 54, 0, time.UTC))
	e.SetExtension("region", "us-east-1")
	_ = e.SetData("application/json", map[string]any{"instance-id": "i-0123456789", "state": "RUNNING", "resources": []string{"arn:a", "arn:b"}})
	return &e
}

var ec2Paths = map[string]string{"timestamp": "$.time", "instance": "$.data.instance-id", "state": "$.data.state"}

func TestInputTransformerDocExamples(t *testing.T) {
	cases := []struct{ name, tmpl, want, ct string }{
		{"simple string", `"instance <instance> is in <state>"`, `"instance i-0123456789 is in RUNNING"`, "application/json"},
		{"string with escaped quotes", `"instance \"<instance>\" is in <state>"`, `"instance \"i-0123456789\" is in RUNNING"`, "application/json"},
		{"simple JSON", `{"instance" : <instance>, "state": <state>}`, `{"instance":"i-0123456789","state":"RUNNING"}`, "application/json"},
		{"JSON with strings and variables", `{"instance" : <instance>, "state": "<state>", "instanceStatus": "instance \"<instance>\" is in <state>"}`,
			`{"instance":"i-0123456789","state":"RUNNING","instanceStatus":"instance \"i-0123456789\" is in RUNNING"}`, "application/json"},
		{"JSON with static information", `{"instance" : <instance>, "state": [ 9, <state>, true ], "Transformed" : "Yes"}`,
			`{"instance":"i-0123456789","state":[9,"RUNNING",true],"Transformed":"Yes"}`, "application/json"},
		{"reserved variables in a string", `"<aws.events.rule-name> triggered"`, `"example triggered"`, "application/json"},
		{"plain text", `instance <instance> is in <state>`, `instance i-0123456789 is in RUNNING`, "text/plain; charset=utf-8"},
		{"missing path", `{"x": <nope>, "y": "<nope>"}`, `{"x":null,"y":""}`, "application/json"},
	}
	paths := map[string]string{"nope": "$.data.not-there"}
	for k, v := range ec2Paths {
		paths[k] = v
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr, err := Compile(Spec{InputTransformer: &InputTransformer{InputPaths: paths, InputTemplate: c.tmpl}})
			if err != nil {
				t.Fatal(err)
			}
			out, err := tr.Apply(WithRule(context.Background(), "example"), ec2())
			if err != nil {
				t.Fatal(err)
			}
			if string(out.Data()) != c.want || out.DataContentType() != c.ct {
				t.Fatalf("got %s (%s)\nwant %s (%s)", out.Data(), out.DataContentType(), c.want, c.ct)
			}
		})
	}
}

func TestInputTransformerWholeEventAndPaths(t *testing.T) {
	tr, err := Compile(Spec{InputTransformer: &InputTransformer{
		InputPaths:    map[string]string{"first": "$.data.resources[0]", "all": "$.data.resources[*]", "region": "$.region"},
		InputTemplate: `{"first": <first>, "all": <all>, "region": <region>, "ev": <aws.events.event>, "at": <aws.events.event.ingestion-time>}`,
	}})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	out, err := tr.Apply(WithIngested(context.Background(), at), ec2())
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(out.Data(), &got); err != nil {
		t.Fatalf("%s: %v", out.Data(), err)
	}
	ev := got["ev"].(map[string]any)
	if got["first"] != "arn:a" || len(got["all"].([]any)) != 2 || got["region"] != "us-east-1" || ev["source"] != "aws.ec2" || got["at"] != "2026-01-02T03:04:05Z" {
		t.Fatalf("%s", out.Data())
	}
}

func TestInputTransformerRefused(t *testing.T) {
	for _, c := range []struct {
		it   InputTransformer
		want string
	}{
		{InputTransformer{InputTemplate: ""}, "required"},
		{InputTransformer{InputTemplate: `<x>`}, "neither in input_paths"},
		{InputTransformer{InputPaths: map[string]string{"x": "detail.a"}, InputTemplate: `<x>`}, "must start with"},
		{InputTransformer{InputPaths: map[string]string{"aws.events.event": "$.a"}, InputTemplate: `x`}, "reserved"},
		{InputTransformer{InputPaths: map[string]string{"x": "$.a[b]"}, InputTemplate: `<x>`}, "bad index"},
	} {
		_, err := Compile(Spec{InputTransformer: &c.it})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.it, err, c.want)
		}
	}
	if _, err := Compile(Spec{JQ: ".", InputTransformer: &InputTransformer{InputTemplate: "x"}}); err == nil {
		t.Error("jq and input_transformer together accepted")
	}
}
