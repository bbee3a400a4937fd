package cloudsync_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/pkg/cloudsync"
	"github.com/eventbridge-dev/eventbridge/pkg/cloudsync/cloudsynctest"
)

func TestResourceCodecSpec(t *testing.T) {
	c := cloudsynctest.Codec
	r := &cloudsync.Resource{ID: "r1", Version: 7, ClusterName: "c1", Source: "s1", Spec: json.RawMessage(`{"replicas":2}`)}
	et := cloudsynctest.Type(cloudsync.SubResourceSpec, cloudsync.CreateRequest)
	evt, err := c.Encode("s1", et, r)
	if err != nil {
		t.Fatal(err)
	}
	if err := evt.Validate(); err != nil {
		t.Fatal(err)
	}
	if evt.Type() != et.String() || evt.Source() != "s1" || evt.SpecVersion() != "1.0" || evt.ID() == "" || evt.Time().IsZero() {
		t.Errorf("attributes: %s", evt)
	}
	if evt.DataContentType() != "application/json" || string(evt.Data()) != `{"replicas":2}` {
		t.Errorf("data %q (%s)", evt.Data(), evt.DataContentType())
	}
	ext := evt.Extensions()
	// clustername and originalsource are always set, originalsource "" on a spec
	if v, ok := ext[cloudsync.ExtClusterName]; !ok || v != "c1" {
		t.Errorf("clustername = %v, %v", v, ok)
	}
	if v, ok := ext[cloudsync.ExtOriginalSource]; !ok || v != "" {
		t.Errorf("originalsource = %v, %v", v, ok)
	}
	if cloudsync.ExtString(evt, cloudsync.ExtResourceID) != "r1" || cloudsync.ExtString(evt, cloudsync.ExtResourceVersion) != "7" {
		t.Errorf("resourceid/resourceversion: %v", ext)
	}
	if _, ok := ext[cloudsync.ExtDeletionTimestamp]; ok {
		t.Error("deletiontimestamp on a live resource")
	}
	back, err := c.Decode(evt)
	if err != nil {
		t.Fatal(err)
	}
	if back.ID != "r1" || back.Version != 7 || back.ClusterName != "c1" || back.Source != "s1" || string(back.Spec) != `{"replicas":2}` || back.Deleting != nil {
		t.Errorf("decoded %+v", back)
	}
}

func TestResourceCodecDeletion(t *testing.T) {
	c := cloudsynctest.Codec
	when := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	r := &cloudsync.Resource{ID: "r1", Version: 3, ClusterName: "c1", Spec: json.RawMessage(`{"x":1}`), Deleting: &when}
	evt, err := c.Encode("s1", cloudsynctest.Type(cloudsync.SubResourceSpec, cloudsync.DeleteRequest), r)
	if err != nil {
		t.Fatal(err)
	}
	if len(evt.Data()) != 0 {
		t.Errorf("a deletion carries data %q", evt.Data())
	}
	ts, ok, err := cloudsync.ExtTime(evt, cloudsync.ExtDeletionTimestamp)
	if err != nil || !ok || !ts.Equal(when) {
		t.Errorf("deletiontimestamp = %v, %v, %v", ts, ok, err)
	}
	back, err := c.Decode(evt)
	if err != nil {
		t.Fatal(err)
	}
	if back.Deleting == nil || !back.Deleting.Equal(when) {
		t.Errorf("decoded deletion %+v", back)
	}
}

func TestResourceCodecStatus(t *testing.T) {
	c := cloudsynctest.Codec
	r := &cloudsync.Resource{ID: "r1", Version: 3, ClusterName: "c1", Source: "s1", Status: json.RawMessage(`{"ready":true}`)}
	evt, err := c.Encode("agent1", cloudsynctest.Type(cloudsync.SubResourceStatus, cloudsync.UpdateRequest), r)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := cloudsync.HashStatus(json.RawMessage(`{"ready":true}`))
	if got := cloudsync.ExtString(evt, cloudsync.ExtStatusHash); got != want {
		t.Errorf("statushash = %s, want %s", got, want)
	}
	if got := cloudsync.ExtString(evt, cloudsync.ExtOriginalSource); got != "s1" {
		t.Errorf("originalsource = %q", got)
	}
	back, err := c.Decode(evt)
	if err != nil {
		t.Fatal(err)
	}
	if back.Source != "s1" || string(back.Status) != `{"ready":true}` || back.ClusterName != "c1" {
		t.Errorf("decoded %+v", back)
	}
}
