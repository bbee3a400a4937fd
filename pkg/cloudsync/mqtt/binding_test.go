package mqtt

import (
	"encoding/json"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/eclipse/paho.golang/paho"

	"github.com/eventbridge-dev/eventbridge/pkg/cloudsync"
)

func sampleEvent(t *testing.T) cloudevents.Event {
	t.Helper()
	v := int64(3)
	when := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	e := cloudsync.NewEvent("maestro", cloudsync.EventType{DataType: cloudsync.MustParseDataType(mb), SubResource: cloudsync.SubResourceSpec, Action: cloudsync.UpdateRequest},
		cloudsync.EventOptions{ClusterName: "cluster1", ResourceID: "r1", ResourceVersion: &v})
	e.SetTime(when)
	if err := e.SetData(cloudevents.ApplicationJSON, map[string]any{"manifests": []any{}}); err != nil {
		t.Fatal(err)
	}
	return e
}

// The layout sdk-go's mqtt_paho.WritePubMessage writes in binary mode:
// "ce-" user properties, Content Type = datacontenttype, payload = data.
func TestWritePublishLayout(t *testing.T) {
	e := sampleEvent(t)
	var p paho.Publish
	if err := WritePublish(&e, &p); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"ce-specversion":     "1.0",
		"ce-id":              e.ID(),
		"ce-source":          "maestro",
		"ce-type":            mb + ".spec.update_request",
		"ce-time":            "2026-05-01T10:00:00Z",
		"ce-clustername":     "cluster1",
		"ce-originalsource":  "",
		"ce-resourceid":      "r1",
		"ce-resourceversion": "3",
	}
	got := map[string]string{}
	for _, u := range p.Properties.User {
		if _, dup := got[u.Key]; dup {
			t.Errorf("user property %s twice", u.Key)
		}
		got[u.Key] = u.Value
	}
	for k, v := range want {
		if gv, ok := got[k]; !ok || gv != v {
			t.Errorf("user property %s = %q (present %v), want %q", k, gv, ok, v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("user properties %v, want exactly %v", got, want)
	}
	if p.Properties.User[0].Key != "ce-specversion" {
		t.Errorf("first user property %s", p.Properties.User[0].Key)
	}
	if p.Properties.ContentType != "application/json" {
		t.Errorf("Content Type %q", p.Properties.ContentType)
	}
	if string(p.Payload) != `{"manifests":[]}` {
		t.Errorf("payload %s", p.Payload)
	}
}

func TestReadPublish(t *testing.T) {
	e := sampleEvent(t)
	var p paho.Publish
	if err := WritePublish(&e, &p); err != nil {
		t.Fatal(err)
	}
	back, err := ReadPublish(&p)
	if err != nil {
		t.Fatal(err)
	}
	if back.ID() != e.ID() || back.Type() != e.Type() || back.Source() != e.Source() || !back.Time().Equal(e.Time()) ||
		back.DataContentType() != "application/json" || string(back.Data()) != string(e.Data()) {
		t.Errorf("round trip:\n%s\nwant\n%s", back, e)
	}
	if v, ok, err := cloudsync.ExtInt64(back, cloudsync.ExtResourceVersion); err != nil || !ok || v != 3 {
		t.Errorf("resourceversion %v %v %v", v, ok, err)
	}
	if _, ok := back.Extensions()[cloudsync.ExtOriginalSource]; !ok {
		t.Error("the empty originalsource was lost")
	}

	// structured mode
	js, _ := json.Marshal(e)
	for _, ct := range []string{"application/cloudevents+json", "application/cloudevents+json; charset=utf-8", ""} {
		sp := &paho.Publish{Payload: js, Properties: &paho.PublishProperties{ContentType: ct}}
		got, err := ReadPublish(sp)
		if err != nil {
			t.Errorf("structured (%q): %v", ct, err)
			continue
		}
		if got.ID() != e.ID() || cloudsync.ExtString(got, cloudsync.ExtClusterName) != "cluster1" || string(got.Data()) != string(e.Data()) {
			t.Errorf("structured (%q): %s", ct, got)
		}
	}

	// unprefixed binary (older sdk-go)
	old := &paho.Publish{Payload: []byte(`{}`), Properties: &paho.PublishProperties{ContentType: "application/json", User: paho.UserProperties{
		{Key: "specversion", Value: "1.0"}, {Key: "id", Value: "x"}, {Key: "source", Value: "s"}, {Key: "type", Value: mb + ".spec.create_request"},
		{Key: "clustername", Value: "c1"}, {Key: "Not-An-Attribute", Value: "?"},
	}}}
	got, err := ReadPublish(old)
	if err != nil || got.ID() != "x" || cloudsync.ExtString(got, cloudsync.ExtClusterName) != "c1" {
		t.Errorf("unprefixed: %v %v", got, err)
	}

	// not a CloudEvent
	for _, bad := range []*paho.Publish{
		{Payload: []byte("hello")},
		{Payload: []byte(`{"a":1}`), Properties: &paho.PublishProperties{ContentType: "application/json"}},
		{Properties: &paho.PublishProperties{User: paho.UserProperties{{Key: "ce-specversion", Value: "1.0"}}}}, // no id/source/type
	} {
		if got, err := ReadPublish(bad); err == nil {
			t.Errorf("read %s from a non-event", got)
		}
	}
}
