package ceproxystore_test

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/eventbridge-dev/eventbridge/internal/oran"
	"github.com/eventbridge-dev/eventbridge/internal/oran/ceproxystore"
)

// entry is what a test expects of one Entry.
type entry struct {
	kind, version, id, endpoint, resource, file string
	uriLocation                                 bool // has one
}

func TestRead(t *testing.T) {
	const (
		v1Sub1 = "789be75d-7ac3-472e-bbbc-6d62878aad4a"
		v1Sub2 = "5a1b8c2e-3f4d-4e6a-9b7c-0d1e2f3a4b5c"
		v1Pub  = "b0a1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d"
		s1     = "d1dd1770-e718-401e-ba32-cef05a286164"
		s2     = "0f9e8d7c-6b5a-4948-8372-615049382716"
		s3     = "c3b2a190-8f7e-4d6c-9b5a-493827160504"
		epA    = "http://consumer-a.example:9089/event"
		epB    = "http://consumer-b.example:8080/event"
		epC    = "http://consumer-c.example:9089/event"
		epV1   = "http://consumer-v1.example:9090/ack/event"
	)
	clientA, clientB, clientC := oran.ClientID(epA)+".json", oran.ClientID(epB)+".json", oran.ClientID(epC)+".json"
	cases := []struct {
		dir     string
		entries []entry
		skipped []string // "file: part of the reason"
		err     string
	}{
		{
			dir: "full",
			entries: []entry{
				{oran.KindSubscription, oran.V1, v1Sub1, epV1, "/cluster/node/node1/sync/ptp-status/lock-state", "sub.json", true},
				{oran.KindSubscription, oran.V1, v1Sub2, epV1, "/cluster/node/node1/sync/sync-status/os-clock-sync-state", "sub.json", true},
				{oran.KindPublisher, oran.V1, v1Pub, "http://localhost:9085/api/ocloudNotifications/v1/dummy", "/cluster/node/node1/sync/ptp-status/lock-state", "pub.json", true},
				{oran.KindSubscription, oran.V2, s2, epA, "/sync/sync-status/sync-state", clientA, true},
				{oran.KindSubscription, oran.V2, s1, epA, "/sync/ptp-status/lock-state", clientA, true},
				{oran.KindSubscription, oran.V2, s3, epB, "/sync/ptp-status/clock-class", clientB, true},
			},
			skipped: []string{"README.txt: not a store file", "config.json: not a store file"},
		},
		{
			dir: "odd",
			entries: []entry{
				// pub.json with the v2 keys (uriLocation names v2), then the v1 keys without a uriLocation.
				{oran.KindPublisher, oran.V2, "6f1e2d3c-4b5a-4697-8877-665544332211", "http://localhost:9085/dummy", "/east-edge-10/Node3/sync/sync-status/sync-state", "pub.json", true},
				{oran.KindPublisher, oran.V1, "7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d", "http://localhost:9085/dummy", "/east-edge-10/Node3/sync/ptp-status/lock-state", "pub.json", false},
				// The id from the store's key, the endpoint from the client.
				{oran.KindSubscription, oran.V2, "aa11bb22-cc33-4d44-8e55-ff6677889900", epC, "/sync/gnss-status/gnss-sync-status", clientC, true},
			},
			skipped: []string{"sub.json: empty", "11111111-2222-4333-8444-555555555555.json: empty", oran.ClientID("http://consumer-d.example:9089/event") + ".json: a client without subscriptions", "not-a-uuid.json: not a store file"},
		},
		{
			dir: "dup",
			entries: []entry{
				{oran.KindSubscription, oran.V1, "12345678-1234-4234-8234-123456789abc", epA, "/sync/ptp-status/lock-state", "sub.json", false},
				{oran.KindSubscription, oran.V2, s1, epA, "/sync/ptp-status/lock-state", clientA, true},
			},
			skipped: []string{"sub.json: duplicate: already read from sub.json", "ffffffff-ffff-4fff-8fff-ffffffffffff.json: duplicate: already read from " + clientA},
		},
		{dir: "bad", err: clientA + ": not a subscriber client file"},
		{dir: "missing", err: "store path"},
	}
	for _, c := range cases {
		t.Run(c.dir, func(t *testing.T) {
			st, err := ceproxystore.Read(filepath.Join("testdata", c.dir))
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(st.Entries) != len(c.entries) {
				t.Fatalf("%d entries, want %d: %+v", len(st.Entries), len(c.entries), st.Entries)
			}
			for i, w := range c.entries {
				g := st.Entries[i]
				got := entry{g.Kind, g.Version, g.ID, g.EndpointURI, g.Resource, g.File, g.URILocation != ""}
				if got != w {
					t.Errorf("entry %d:\n got %+v\nwant %+v", i, got, w)
				}
				if w.uriLocation && !strings.HasSuffix(g.URILocation, "/"+g.ID) {
					t.Errorf("entry %d: uriLocation %q", i, g.URILocation)
				}
			}
			var skipped []string
			for _, n := range st.Skipped {
				skipped = append(skipped, n.File+": "+n.Reason)
			}
			if len(skipped) != len(c.skipped) {
				t.Fatalf("skipped %q, want %q", skipped, c.skipped)
			}
			sort.Strings(skipped)
			want := append([]string(nil), c.skipped...)
			sort.Strings(want)
			for i := range want {
				if !strings.HasPrefix(skipped[i], want[i]) {
					t.Errorf("skipped %q, want %q", skipped[i], want[i])
				}
			}
		})
	}
}

// The test data's client files are named as cloud-event-proxy names them:
// MD5(NameSpaceURL, EndpointUri), the clientID inside.
func TestTestdataClientNames(t *testing.T) {
	for _, dir := range []string{"full", "odd"} {
		st, err := ceproxystore.Read(filepath.Join("testdata", dir))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range st.Entries {
			if e.File != ceproxystore.SubFile && e.File != ceproxystore.PubFile && e.File != oran.ClientID(e.EndpointURI)+".json" {
				t.Errorf("%s/%s holds endpoint %s", dir, e.File, e.EndpointURI)
			}
		}
	}
}

// A file over the size limit is an error, not a silent truncation.
func TestReadTooLarge(t *testing.T) {
	dir := t.TempDir()
	big := make([]byte, ceproxystore.MaxFileSize+1)
	for i := range big {
		big[i] = ' '
	}
	if err := os.WriteFile(filepath.Join(dir, "sub.json"), big, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ceproxystore.Read(dir); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("err %v", err)
	}
}
