package cloudsync_test

import (
	"testing"

	"github.com/eventbridge-dev/eventbridge/pkg/cloudsync"
)

func TestParseEventType(t *testing.T) {
	mb := cloudsync.MustParseDataType(cloudsync.ManifestBundleDataType)
	cases := []struct {
		in      string
		want    cloudsync.EventType
		wantErr bool
	}{
		{in: "io.open-cluster-management.works.v1alpha1.manifestbundles.spec.create_request",
			want: cloudsync.EventType{DataType: mb, SubResource: cloudsync.SubResourceSpec, Action: cloudsync.CreateRequest}},
		{in: "io.open-cluster-management.works.v1alpha1.manifestbundles.status.resync_response",
			want: cloudsync.EventType{DataType: mb, SubResource: cloudsync.SubResourceStatus, Action: cloudsync.ResyncResponse}},
		{in: "cluster.open-cluster-management.io.v1.managedclusters.spec.watch_request",
			want: cloudsync.EventType{DataType: cloudsync.DataType{Group: "cluster.open-cluster-management.io", Version: "v1", Resource: "managedclusters"}, SubResource: cloudsync.SubResourceSpec, Action: cloudsync.WatchRequest}},
		// the minimal five parts: a group without dots
		{in: "g.v1.things.status.update_request",
			want: cloudsync.EventType{DataType: cloudsync.DataType{Group: "g", Version: "v1", Resource: "things"}, SubResource: cloudsync.SubResourceStatus, Action: cloudsync.UpdateRequest}},
		// the action is not checked, as in OCM
		{in: "g.v1.things.spec.anything",
			want: cloudsync.EventType{DataType: cloudsync.DataType{Group: "g", Version: "v1", Resource: "things"}, SubResource: cloudsync.SubResourceSpec, Action: "anything"}},
		{in: "v1.things.spec.create_request", wantErr: true},       // four parts
		{in: "g.v1.things.metadata.create_request", wantErr: true}, // subresource neither spec nor status
		{in: "", wantErr: true},
		{in: cloudsync.HeartbeatType, wantErr: true},
	}
	for _, c := range cases {
		got, err := cloudsync.ParseEventType(c.in)
		if c.wantErr {
			if err == nil {
				t.Errorf("ParseEventType(%q) = %+v, want an error", c.in, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseEventType(%q): %v", c.in, err)
			continue
		}
		if got != c.want {
			t.Errorf("ParseEventType(%q) = %+v, want %+v", c.in, got, c.want)
		}
		if got.String() != c.in {
			t.Errorf("ParseEventType(%q).String() = %q", c.in, got.String())
		}
	}
}

func TestParseDataType(t *testing.T) {
	cases := []struct {
		in      string
		want    cloudsync.DataType
		wantErr bool
	}{
		{in: cloudsync.ManifestBundleDataType, want: cloudsync.DataType{Group: "io.open-cluster-management.works", Version: "v1alpha1", Resource: "manifestbundles"}},
		{in: "coordination.k8s.io.v1.leases", want: cloudsync.DataType{Group: "coordination.k8s.io", Version: "v1", Resource: "leases"}},
		{in: "g.v1.r", want: cloudsync.DataType{Group: "g", Version: "v1", Resource: "r"}},
		{in: "v1.r", wantErr: true},
		{in: "r", wantErr: true},
	}
	for _, c := range cases {
		got, err := cloudsync.ParseDataType(c.in)
		if (err != nil) != c.wantErr {
			t.Errorf("ParseDataType(%q) error = %v, wantErr %v", c.in, err, c.wantErr)
			continue
		}
		if !c.wantErr && (got != c.want || got.String() != c.in) {
			t.Errorf("ParseDataType(%q) = %+v (%s), want %+v", c.in, got, got, c.want)
		}
	}
}
