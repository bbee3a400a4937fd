package grpc

import (
	"strings"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/binding/format/protobuf/v2/pb"
	cloudevents "github.com/cloudevents/sdk-go/v2"

	"github.com/eventbridge-dev/eventbridge/pkg/cloudsync"
)

func TestParseConfig(t *testing.T) {
	c, err := ParseConfig([]byte(`
url: broker.example.com:8090
keepAliveConfig:
  enable: true
  time: 45s
  timeout: 5000000000
  permitWithoutStream: true
serverHealthinessTimeout: 20s
`))
	if err != nil {
		t.Fatal(err)
	}
	o, err := c.Options()
	if err != nil {
		t.Fatal(err)
	}
	if o.URL != "broker.example.com:8090" || !o.KeepAlive || o.KeepAliveTime != 45*time.Second || o.KeepAliveTimeout != 5*time.Second ||
		!o.PermitWithoutStream || o.ServerHealthinessTimeout != 20*time.Second || o.DialTimeout != DefaultDialTimeout || o.TLSConfig != nil {
		t.Errorf("options %+v", o)
	}
	c, _ = ParseConfig([]byte("url: x:1\n"))
	o, _ = c.Options()
	if o.KeepAlive || o.KeepAliveTime != DefaultKeepAliveTime || o.ServerHealthinessTimeout != 0 {
		t.Errorf("defaults %+v", o)
	}
	for cfg, want := range map[string]string{
		"token: t\n":                       "url",
		"url: x:1\ntoken: t\n":             "caFile",
		"url: x:1\nclientCertFile: c\n":    "clientKeyFile",
		"url: x:1\ncaFile: /nonexistent\n": "caFile",
	} {
		c, err := ParseConfig([]byte(cfg))
		if err == nil {
			_, err = c.Options()
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want an error naming %s", cfg, err, want)
		}
	}
}

// Events are written in OCM's binding (ce-<name> keys, contenttype,
// binary_data) and read back from it and from the protobuf format's keys.
func TestBinding(t *testing.T) {
	v := int64(7)
	del := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	e := cloudsync.NewEvent("src", cloudsync.EventType{DataType: cloudsync.MustParseDataType("a.b.v1.things"), SubResource: cloudsync.SubResourceSpec, Action: cloudsync.DeleteRequest},
		cloudsync.EventOptions{ClusterName: "c1", ResourceID: "r1", ResourceVersion: &v, DeletionTimestamp: del})
	_ = e.SetData(cloudevents.ApplicationJSON, []byte(`{"x":1}`))
	p, err := ToProto(e)
	if err != nil {
		t.Fatal(err)
	}
	if p.Attributes["ce-resourceversion"].GetCeInteger() != 7 || p.Attributes["ce-clustername"].GetCeString() != "c1" ||
		p.Attributes["contenttype"].GetCeString() != "application/json" || p.Attributes["ce-time"].GetCeTimestamp() == nil ||
		!p.Attributes["ce-deletiontimestamp"].GetCeTimestamp().AsTime().Equal(del) || string(p.GetBinaryData()) != `{"x":1}` {
		t.Errorf("written %v", p)
	}
	if _, ok := p.Attributes["ce-originalsource"]; !ok {
		t.Error("originalsource (\"\") not written")
	}
	back, err := FromProto(p)
	if err != nil {
		t.Fatal(err)
	}
	if back.ID() != e.ID() || back.Type() != e.Type() || back.DataContentType() != "application/json" || string(back.Data()) != `{"x":1}` ||
		!back.Time().Equal(e.Time()) {
		t.Errorf("read %v", back)
	}
	if got, _, _ := cloudsync.ExtInt64(&back, "resourceversion"); got != 7 {
		t.Errorf("resourceversion %d", got)
	}
	if got, _, _ := cloudsync.ExtTime(&back, "deletiontimestamp"); !got.Equal(del) {
		t.Errorf("deletiontimestamp %v", got)
	}
	// The protobuf format's plain keys.
	plain := &pb.CloudEvent{Id: "1", Source: "s", SpecVersion: "1.0", Type: "t", Attributes: map[string]*pb.CloudEventAttributeValue{
		"datacontenttype": {Attr: &pb.CloudEventAttributeValue_CeString{CeString: "text/plain"}},
		"clustername":     {Attr: &pb.CloudEventAttributeValue_CeString{CeString: "c2"}},
	}, Data: &pb.CloudEvent_TextData{TextData: "hi"}}
	got, err := FromProto(plain)
	if err != nil || got.DataContentType() != "text/plain" || cloudsync.ExtString(&got, "clustername") != "c2" || string(got.Data()) != "hi" {
		t.Errorf("plain keys: %v %v", got, err)
	}
	ToOCMAttributes(plain)
	if _, ok := plain.Attributes["contenttype"]; !ok || plain.Attributes["ce-clustername"] == nil || len(plain.Attributes) != 2 {
		t.Errorf("renamed %v", plain.Attributes)
	}
	FromOCMAttributes(plain)
	if plain.Attributes["datacontenttype"] == nil || plain.Attributes["clustername"] == nil || len(plain.Attributes) != 2 {
		t.Errorf("renamed back %v", plain.Attributes)
	}
	if _, err := FromProto(&pb.CloudEvent{SpecVersion: "1.0"}); err == nil {
		t.Error("an event without id, source and type was read")
	}
}
