package cli

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eventbridge-dev/eventbridge/internal/oran"
	"github.com/eventbridge-dev/eventbridge/internal/testkit/bridgetest"
)

// writeCEProxyStore lays out a cloud-event-proxy store directory as
// cloud-event-proxy writes it: sub.json and pub.json (v1 PubSub arrays),
// one <clientID>.json per v2 client (clientID = MD5(NameSpaceURL,
// endpoint), MarshalIndent with one space), plus a file that is not a
// store file.
func writeCEProxyStore(t *testing.T, files map[string]any) string {
	t.Helper()
	dir := t.TempDir()
	for name, v := range files {
		var b []byte
		switch v := v.(type) {
		case string:
			b = []byte(v)
		default:
			var err error
			if b, err = json.MarshalIndent(v, "", " "); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o666); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func clientFile(endpoint string, subs ...map[string]string) (string, map[string]any) {
	store := map[string]any{}
	for _, s := range subs {
		store[s["SubscriptionId"]] = s
	}
	id := oran.ClientID(endpoint)
	return id + ".json", map[string]any{"clientID": id, "subStore": map[string]any{"store": store}, "EndpointUri": endpoint, "status": 1, "action": 0}
}

func TestImportOran(t *testing.T) {
	isolate(t)
	// No api.allow_private_addresses: the metadata endpoint is refused.
	b, server := bridgetest.Start(t, `oran: {listen: "127.0.0.1:0"}`)
	const (
		v1Sub = "789be75d-7ac3-472e-bbbc-6d62878aad4a"
		v1Pub = "b0a1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d"
		s1    = "d1dd1770-e718-401e-ba32-cef05a286164"
		s2    = "0f9e8d7c-6b5a-4948-8372-615049382716"
		bad   = "c3b2a190-8f7e-4d6c-9b5a-493827160504"
		epA   = "http://203.0.113.10:9089/event"
		epBad = "http://169.254.169.254/latest/meta-data"
		v2loc = "http://ptp-event-publisher-service-node1.openshift-ptp.svc.cluster.local:9043/api/ocloudNotifications/v2/subscriptions/"
	)
	info := func(res, ep, id string) map[string]string {
		return map[string]string{"ResourceAddress": res, "EndpointUri": ep, "SubscriptionId": id, "UriLocation": v2loc + id}
	}
	nameA, fileA := clientFile(epA, info("/sync/ptp-status/lock-state", epA, s1), info("/sync/sync-status/sync-state", epA, s2))
	nameBad, fileBad := clientFile(epBad, info("/sync/ptp-status/clock-class", epBad, bad))
	dir := writeCEProxyStore(t, map[string]any{
		"sub.json": []map[string]string{{"id": v1Sub, "endpointUri": "http://203.0.113.11:9090/ack/event",
			"uriLocation": "http://localhost:8089/api/ocloudNotifications/v1/subscriptions/" + v1Sub, "resource": "/cluster/node/node1/sync/ptp-status/lock-state"}},
		"pub.json": []map[string]string{{"id": v1Pub, "endpointUri": "http://203.0.113.12:9085/api/ocloudNotifications/v1/dummy",
			"uriLocation": "http://localhost:8089/api/ocloudNotifications/v1/publishers/" + v1Pub, "resource": "/cluster/node/node1/sync/ptp-status/lock-state"}},
		nameA:             fileA,
		nameBad:           fileBad,
		"ptp-config.json": `{"profile": "x"}`,
	})

	oranGet := func(path string) (int, map[string]any) {
		t.Helper()
		resp, err := http.Get("http://" + b.OranAddr() + "/api/ocloudNotifications" + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		return resp.StatusCode, m
	}

	// The dry run shows the plan and stores nothing.
	r := cli(t, server, "import", "oran", "--store-path", dir, "--dry-run")
	if r.code != 0 {
		t.Fatalf("dry run: %s", r)
	}
	wantInOrder(t, "dry run", r.out, "would import 4:", v1Sub, v1Pub, s2, s1, "skipped 0", "refused 1:", bad, "not allowed",
		"ptp-config.json: not a store file", "dry run: nothing was stored")
	if code, _ := oranGet("/v2/subscriptions/" + s1); code != 404 {
		t.Fatalf("the dry run stored %s: %d", s1, code)
	}

	r = cli(t, server, "import", "oran", "--store-path", dir)
	if r.code != 0 {
		t.Fatalf("import: %s", r)
	}
	wantInOrder(t, "import", r.out, "imported 4:", "skipped 0", "refused 1:", bad)
	if strings.Contains(r.out, "dry run") {
		t.Errorf("not a dry run:\n%s", r.out)
	}

	// The O-RAN API serves them with their ids, keys and uriLocations.
	for _, id := range []string{s1, s2} {
		code, m := oranGet("/v2/subscriptions/" + id)
		if code != 200 || m["SubscriptionId"] != id || m["EndpointUri"] != epA || m["UriLocation"] != v2loc+id {
			t.Errorf("v2 subscription %s: %d %v", id, code, m)
		}
	}
	if code, m := oranGet("/v1/subscriptions/" + v1Sub); code != 200 || m["id"] != v1Sub || m["resource"] != "/cluster/node/node1/sync/ptp-status/lock-state" {
		t.Errorf("v1 subscription: %d %v", code, m)
	}
	if code, m := oranGet("/v1/publishers/" + v1Pub); code != 200 || m["id"] != v1Pub {
		t.Errorf("v1 publisher: %d %v", code, m)
	}
	if code, _ := oranGet("/v2/subscriptions/" + bad); code != 404 {
		t.Errorf("the refused subscription was stored: %d", code)
	}
	resp, err := http.Get("http://" + b.OranAddr() + "/api/ocloudNotifications/v2/subscriptions")
	if err != nil {
		t.Fatal(err)
	}
	var list []map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	ids := map[any]bool{}
	for _, s := range list {
		ids[s["SubscriptionId"]] = true
	}
	if !ids[s1] || !ids[s2] || ids[bad] {
		t.Errorf("v2 list: %v", list)
	}

	// Importing twice imports nothing new.
	r = cli(t, server, "import", "oran", "--store-path", dir, "-o", "json")
	if r.code != 0 {
		t.Fatalf("second import: %s", r)
	}
	var res struct {
		Imported, Skipped, Refused []map[string]any
		Files                      []map[string]any `json:"files_skipped"`
	}
	if err := json.Unmarshal([]byte(r.out), &res); err != nil {
		t.Fatalf("%v:\n%s", err, r.out)
	}
	if len(res.Imported) != 0 || len(res.Skipped) != 4 || len(res.Refused) != 1 || len(res.Files) != 1 {
		t.Errorf("second import: %s", r.out)
	}
	for _, s := range res.Skipped {
		if !strings.Contains(s["reason"].(string), "already exists") {
			t.Errorf("skipped for %v", s["reason"])
		}
	}

	// Usage errors.
	if r := cli(t, server, "import", "oran"); r.code != 2 || !strings.Contains(r.err, "--store-path") {
		t.Errorf("without --store-path: %s", r)
	}
	if r := cli(t, server, "import", "oran", "--store-path", filepath.Join(dir, "nope")); r.code != 1 || !strings.Contains(r.err, "store path") {
		t.Errorf("missing dir: %s", r)
	}
}

// The endpoint names the fields of a malformed request (problem+json).
func TestImportOranAPIProblems(t *testing.T) {
	isolate(t)
	_, server := bridgetest.Start(t, ``)
	body := `{"items":[{"kind":"topic","version":"v3","resource":""},{"id":"x","resource":"/r"}]}`
	resp, err := http.Post(server+"/v1/oran:import", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var p struct {
		Errors []struct{ Field, Reason string }
	}
	_ = json.NewDecoder(resp.Body).Decode(&p)
	fields := map[string]bool{}
	for _, e := range p.Errors {
		fields[e.Field] = true
	}
	if resp.StatusCode != 400 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json") {
		t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, f := range []string{"items[0].kind", "items[0].version", "items[0].id", "items[0].resource", "items[1].endpoint_uri"} {
		if !fields[f] {
			t.Errorf("no problem for %s in %+v", f, p.Errors)
		}
	}
	big := `{"items":[` + strings.Repeat(`{"id":"x","resource":"/r","kind":"publisher"},`, 10001) + `{"id":"y","resource":"/r","kind":"publisher"}]}`
	resp2, err := http.Post(server+"/v1/oran:import", "application/json", strings.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if resp2.StatusCode != 400 {
		t.Errorf("10002 items: %d", resp2.StatusCode)
	}
}
