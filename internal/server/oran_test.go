package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/eventbridge-dev/eventbridge/internal/server"
	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

// oranConsumer behaves like cloud-event-proxy's example consumer: POST
// /event and POST /ack/event answer 204; it keeps what it was sent.
type oranConsumer struct {
	srv   *httptest.Server
	mu    sync.Mutex
	posts []consumerPost
}

type consumerPost struct {
	Path, ContentType string
	Body              []byte
}

func newOranConsumer(t *testing.T) *oranConsumer {
	c := &oranConsumer{}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || (r.URL.Path != "/event" && r.URL.Path != "/ack/event") {
			http.NotFound(w, r)
			return
		}
		b, _ := io.ReadAll(r.Body)
		c.mu.Lock()
		c.posts = append(c.posts, consumerPost{r.URL.Path, r.Header.Get("Content-Type"), b})
		c.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(c.srv.Close)
	return c
}

func (c *oranConsumer) URL(path string) string { return c.srv.URL + path }

func (c *oranConsumer) Posts() []consumerPost {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.posts)
}

// eventsWith returns the posts whose JSON body has field = value.
func (c *oranConsumer) eventsWith(field, value string) []map[string]any {
	var out []map[string]any
	for _, p := range c.Posts() {
		var m map[string]any
		if json.Unmarshal(p.Body, &m) == nil && m[field] == value {
			out = append(out, m)
		}
	}
	return out
}

// oranDo sends a request to the bridge's O-RAN listener.
func oranDo(t testing.TB, b *server.Bridge, method, path, body string) (int, http.Header, []byte) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, "http://"+b.OranAddr()+path, r)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, out
}

// expect checks a status, that the body is empty (want "") or has the
// JSON keys (want "k1,k2", sorted) or equals want exactly (want "=...").
func expect(t testing.TB, what string, code int, h http.Header, body []byte, wantCode int, want string) {
	t.Helper()
	if code != wantCode {
		t.Fatalf("%s: status %d, want %d (body %s)", what, code, wantCode, body)
	}
	if code != http.StatusNoContent && !strings.HasPrefix(what, "GET health") {
		if ct := h.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s: Content-Type %q, want application/json", what, ct)
		}
	}
	switch {
	case want == "":
		if len(body) != 0 {
			t.Errorf("%s: body %q, want none", what, body)
		}
	case strings.HasPrefix(want, "="):
		if string(body) != want[1:] {
			t.Errorf("%s: body %s, want %s", what, body, want[1:])
		}
	default:
		if got := jsonKeys(t, body); got != want {
			t.Errorf("%s: keys %s, want %s (body %s)", what, got, want, body)
		}
	}
}

func jsonKeys(t testing.TB, body []byte) string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("not a JSON object: %s", body)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return strings.Join(keys, ",")
}

func field(t testing.TB, body []byte, name string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("not a JSON object: %s", body)
	}
	s, _ := m[name].(string)
	return s
}

// postState puts an event of source address on the bus through the
// bridge's HTTP source (data with v1 keys, to be shown with v2 keys).
func postState(t testing.TB, b *server.Bridge, id, address, value string) {
	t.Helper()
	data := `{"version":"v1.0","values":[{"resource":"` + address + `","dataType":"notification","valueType":"enumeration","value":"` + value + `"}]}`
	req, _ := http.NewRequest(http.MethodPost, "http://"+b.Addr()+"/events", strings.NewReader(data))
	req.Header.Set("ce-specversion", "1.0")
	req.Header.Set("ce-id", id)
	req.Header.Set("ce-source", address)
	req.Header.Set("ce-type", "event.sync.sync-status.synchronization-state-change")
	req.Header.Set("ce-time", "2021-03-05T20:59:00.999999999Z")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("post state: %d", resp.StatusCode)
	}
}

const oranConfig = `
api: {allow_private_addresses: true}
oran: {listen: "127.0.0.1:0"}
sources: {in: {type: http, path: /events}}
`

// TestOranV2Contract walks every route of the v2 API: status codes,
// empty bodies, JSON keys, the initial notification, the 409 rule, and
// delivery of events from /create/event and from an HTTP source.
func TestOranV2Contract(t *testing.T) {
	b := startBridge(t, oranConfig)
	cons := newOranConsumer(t)
	const v2 = "/api/ocloudNotifications/v2/"
	const addr = "/east-edge-10/Node3/sync/sync-status/sync-state"
	endpoint := cons.URL("/event")

	code, h, body := oranDo(t, b, "GET", v2+"health", "")
	expect(t, "GET health", code, h, body, 200, "=OK")

	code, h, body = oranDo(t, b, "POST", v2+"subscriptions", `{"ResourceAddress":`)
	expect(t, "POST subscriptions bad JSON", code, h, body, 400, "")
	code, h, body = oranDo(t, b, "POST", v2+"subscriptions", `{"ResourceAddress":"`+addr+`"}`)
	expect(t, "POST subscriptions without EndpointUri", code, h, body, 400, "")
	code, h, body = oranDo(t, b, "POST", v2+"subscriptions", `{"ResourceAddress":"`+addr+`","EndpointUri":"`+endpoint+`"}`)
	expect(t, "POST subscriptions without current state", code, h, body, 404, "")
	code, h, body = oranDo(t, b, "POST", v2+"subscriptions", `{"ResourceAddress":"`+addr+`","EndpointUri":"`+cons.URL("/nothing")+`"}`)
	expect(t, "POST subscriptions, endpoint not 204", code, h, body, 404, "") // no state yet either

	postState(t, b, "s1", addr, "LOCKED")
	// The state is fed from the bus: wait until the subscription finds it.
	var sub []byte
	testkit.Eventually(t, 30*time.Second, func() bool {
		code, h, body = oranDo(t, b, "POST", v2+"subscriptions", `{"ResourceAddress":"`+addr+`","EndpointUri":"`+endpoint+`"}`)
		sub = body
		return code != http.StatusNotFound
	}, "no current state for %s", addr)
	expect(t, "POST subscriptions", code, h, sub, 201, "EndpointUri,ResourceAddress,SubscriptionId,UriLocation")
	id := field(t, sub, "SubscriptionId")
	_, port, _ := strings.Cut(b.OranAddr(), ":")
	if field(t, sub, "UriLocation") != "http://localhost:"+port+v2+"subscriptions/"+id || field(t, sub, "EndpointUri") != endpoint {
		t.Errorf("subscription %s", sub)
	}
	// The initial notification: the current state, as CloudEvent JSON.
	posts := cons.Posts()
	if len(posts) != 1 || posts[0].ContentType != "application/json" {
		t.Fatalf("initial notification: %+v", posts)
	}
	if got := jsonKeys(t, posts[0].Body); got != "data,id,source,specversion,time,type" {
		t.Errorf("initial notification keys %s: %s", got, posts[0].Body)
	}
	if !bytes.Contains(posts[0].Body, []byte(`"ResourceAddress":"`+addr+`","data_type":"notification","value_type":"enumeration","value":"LOCKED"`)) ||
		field(t, posts[0].Body, "specversion") != "1.0" || field(t, posts[0].Body, "id") == "s1" {
		t.Errorf("initial notification %s", posts[0].Body)
	}

	code, h, body = oranDo(t, b, "POST", v2+"subscriptions", `{"ResourceAddress":"`+addr+`","EndpointUri":"`+endpoint+`"}`)
	expect(t, "POST subscriptions again", code, h, body, 409, "")
	code, h, body = oranDo(t, b, "POST", v2+"subscriptions", `{"ResourceAddress":"`+addr+`","EndpointUri":"`+cons.URL("/ack/event")+`"}`)
	expect(t, "POST subscriptions, other endpoint", code, h, body, 201, "EndpointUri,ResourceAddress,SubscriptionId,UriLocation")
	id2 := field(t, body, "SubscriptionId")

	code, h, body = oranDo(t, b, "GET", v2+"subscriptions", "")
	var list []map[string]any
	if code != 200 || json.Unmarshal(body, &list) != nil || len(list) != 2 {
		t.Fatalf("GET subscriptions: %d %s", code, body)
	}
	code, h, body = oranDo(t, b, "GET", v2+"subscriptions/"+id, "")
	expect(t, "GET subscription", code, h, body, 200, "EndpointUri,ResourceAddress,SubscriptionId,UriLocation")
	code, h, body = oranDo(t, b, "GET", v2+"subscriptions/nope", "")
	expect(t, "GET unknown subscription", code, h, body, 404, "")

	code, h, body = oranDo(t, b, "GET", v2+strings.TrimPrefix(addr, "/")+"/CurrentState", "")
	expect(t, "GET CurrentState", code, h, body, 200, "data,id,source,specversion,time,type")
	if field(t, body, "id") != "s1" || field(t, body, "source") != addr {
		t.Errorf("CurrentState %s", body)
	}
	code, h, body = oranDo(t, b, "GET", v2+"east-edge-10/Node9/sync/nothing/CurrentState", "")
	expect(t, "GET CurrentState unknown", code, h, body, 404, "")

	// A publisher, and an event through /create/event.
	code, h, body = oranDo(t, b, "POST", v2+"publishers", `{"ResourceAddress":"`+addr+`","EndpointUri":"`+cons.URL("/ack/event")+`"}`)
	expect(t, "POST publishers", code, h, body, 201, "EndpointUri,ResourceAddress,SubscriptionId,UriLocation")
	pub := field(t, body, "SubscriptionId")
	code, h, body = oranDo(t, b, "GET", v2+"publishers", "")
	if code != 200 || !bytes.Contains(body, []byte(pub)) {
		t.Errorf("GET publishers: %d %s", code, body)
	}
	code, h, body = oranDo(t, b, "GET", v2+"publishers/"+pub, "")
	expect(t, "GET publisher", code, h, body, 200, "EndpointUri,ResourceAddress,SubscriptionId,UriLocation")
	code, h, body = oranDo(t, b, "POST", v2+"create/event", `{"id":"`+pub+`","type":"event.sync.sync-status.synchronization-state-change","source":"`+addr+`","dataContentType":"application/json","time":"2021-02-05T17:31:00Z","data":{"version":"1.0","values":[{"ResourceAddress":"`+addr+`","data_type":"notification","value_type":"enumeration","value":"HOLDOVER"}]}}`)
	expect(t, "POST create/event", code, h, body, 202, `={"status":"Event sent"}`)
	code, h, body = oranDo(t, b, "POST", v2+"create/event", `{"id":"nope","type":"t","data":{"values":[]}}`)
	expect(t, "POST create/event unknown publisher", code, h, body, 400, "error")
	code, h, body = oranDo(t, b, "POST", v2+"create/event", `{"id":`)
	expect(t, "POST create/event bad JSON", code, h, body, 400, "error")
	// An event of another source of the bridge reaches the subscribers too.
	postState(t, b, "s2", addr, "FREERUN")
	testkit.Eventually(t, 30*time.Second, func() bool {
		return len(cons.eventsWith("type", "event.sync.sync-status.synchronization-state-change")) >= 2+4 // initial + 2 events x 2 endpoints
	}, "consumer got %d posts", len(cons.Posts()))
	for _, p := range cons.Posts() {
		if p.ContentType != "application/json" {
			t.Errorf("delivery with Content-Type %q", p.ContentType)
		}
		if len(p.Body) == 0 {
			continue // the publisher's handshake
		}
		if sv := field(t, p.Body, "specversion"); sv != "1.0" {
			t.Errorf("v2 delivery with specversion %q: %s", sv, p.Body)
		}
	}
	if n := len(cons.eventsWith("id", "s2")); n != 2 {
		t.Errorf("event s2 delivered %d times, want 2 (one per endpoint)", n)
	}
	if v := testutil.ToFloat64(b.Oran().Metrics().EventsPublished.WithLabelValues(addr, "success")); v != 1 {
		t.Errorf("cne_api_events_published = %v", v)
	}

	code, h, body = oranDo(t, b, "PUT", v2+"subscriptions/status/"+id, "")
	expect(t, "PUT status", code, h, body, 202, `={"status":"ping sent"}`)
	code, h, body = oranDo(t, b, "PUT", v2+"subscriptions/status/nope", "")
	expect(t, "PUT status unknown", code, h, body, 400, "error")
	code, h, body = oranDo(t, b, "POST", v2+"log", `{"id":"x","type":"t","source":"/s","data":{"values":[]}}`)
	expect(t, "POST log", code, h, body, 202, "")
	code, h, body = oranDo(t, b, "POST", v2+"log", `nope`)
	expect(t, "POST log bad JSON", code, h, body, 400, "error")
	code, h, body = oranDo(t, b, "POST", v2+"dummy", `{}`)
	expect(t, "POST dummy", code, h, body, 204, "")

	code, h, body = oranDo(t, b, "DELETE", v2+"subscriptions/"+id, "")
	expect(t, "DELETE subscription", code, h, body, 204, "")
	code, h, body = oranDo(t, b, "DELETE", v2+"subscriptions/"+id, "")
	expect(t, "DELETE subscription again", code, h, body, 404, "")
	code, h, body = oranDo(t, b, "DELETE", v2+"subscriptions", "")
	expect(t, "DELETE subscriptions", code, h, body, 204, "")
	code, h, body = oranDo(t, b, "GET", v2+"subscriptions/"+id2, "")
	expect(t, "GET deleted subscription", code, h, body, 404, "")
	code, h, body = oranDo(t, b, "GET", v2+"subscriptions", "")
	expect(t, "GET subscriptions empty", code, h, body, 200, "=null")
	code, h, body = oranDo(t, b, "GET", v2+addr[1:]+"/CurrentState", "")
	expect(t, "GET CurrentState without subscription", code, h, body, 404, "")

	code, h, body = oranDo(t, b, "DELETE", v2+"publishers/"+pub, "")
	expect(t, "DELETE publisher", code, h, body, 200, `={"status":"OK"}`)
	code, h, body = oranDo(t, b, "DELETE", v2+"publishers/"+pub, "")
	expect(t, "DELETE publisher again", code, h, body, 400, "error")
	code, h, body = oranDo(t, b, "DELETE", v2+"publishers", "")
	expect(t, "DELETE publishers", code, h, body, 200, `={"status":"deleted all publishers"}`)
	if v := testutil.ToFloat64(b.Oran().Metrics().Subscriptions.WithLabelValues("failed to create")); v < 4 {
		t.Errorf(`cne_api_subscriptions{status="failed to create"} = %v`, v)
	}
}

// TestOranV1Contract walks the v1 API: its JSON keys, the empty-body
// handshake, {"status"} and {"error"} bodies, and the v1 mapping of
// /create/event (source: the publisher's resource, subject: the event's
// source).
func TestOranV1Contract(t *testing.T) {
	b := startBridge(t, oranConfig)
	cons := newOranConsumer(t)
	const v1 = "/api/ocloudNotifications/v1/"
	const res = "/east-edge-10/vdu3/o-ran-sync/sync-group/sync-status/sync-state"

	code, h, body := oranDo(t, b, "GET", v1+"subscriptions", "")
	expect(t, "GET subscriptions empty", code, h, body, 200, "=[]")
	code, h, body = oranDo(t, b, "POST", v1+"subscriptions", `{"resource":`)
	expect(t, "POST subscriptions bad JSON", code, h, body, 400, "error")
	code, h, body = oranDo(t, b, "POST", v1+"subscriptions", `{"resource":"`+res+`","endpointUri":"`+cons.URL("/nothing")+`"}`)
	expect(t, "POST subscriptions, endpoint answers 404", code, h, body, 400, "error")

	code, h, body = oranDo(t, b, "POST", v1+"publishers", `{"resource":"`+res+`","endpointUri":"`+cons.URL("/ack/event")+`"}`)
	expect(t, "POST publishers", code, h, body, 201, "endpointUri,id,resource,uriLocation")
	pub := field(t, body, "id")
	code, h, body = oranDo(t, b, "POST", v1+"subscriptions", `{"resource":"`+res+`","endpointUri":"`+cons.URL("/event")+`"}`)
	expect(t, "POST subscriptions", code, h, body, 201, "endpointUri,id,resource,uriLocation")
	id := field(t, body, "id")
	if !strings.HasSuffix(field(t, body, "uriLocation"), v1+"subscriptions/"+id) {
		t.Errorf("uriLocation %s", body)
	}
	// Handshakes: an empty body, as application/json.
	for _, p := range cons.Posts() {
		if len(p.Body) != 0 || p.ContentType != "application/json" {
			t.Errorf("handshake %+v", p)
		}
	}
	if n := len(cons.Posts()); n != 2 {
		t.Errorf("%d handshakes, want 2", n)
	}

	code, h, body = oranDo(t, b, "GET", v1+"subscriptions/"+id, "")
	expect(t, "GET subscription", code, h, body, 200, "endpointUri,id,resource,uriLocation")
	code, h, body = oranDo(t, b, "GET", v1+"subscriptions/nope", "")
	expect(t, "GET unknown subscription", code, h, body, 400, `={"error":"subscription not found"}`)
	code, h, body = oranDo(t, b, "GET", v1+"publishers/"+pub, "")
	expect(t, "GET publisher", code, h, body, 200, "endpointUri,id,resource,uriLocation")
	code, h, body = oranDo(t, b, "GET", v1+"publishers/nope", "")
	expect(t, "GET unknown publisher", code, h, body, 400, "error")

	code, h, body = oranDo(t, b, "GET", v1+res[1:]+"/CurrentState", "")
	expect(t, "GET CurrentState before any event", code, h, body, 400, `={"error":"event not found"}`)
	code, h, body = oranDo(t, b, "GET", v1+"nothing/here/CurrentState", "")
	expect(t, "GET CurrentState unknown", code, h, body, 400, `={"error":"subscription not found"}`)

	code, h, body = oranDo(t, b, "POST", v1+"create/event", `{"id":"`+pub+`","type":"event.sync.sync-status.synchronization-state-change","source":"/cluster/node/example.com/ptp/clock_realtime","dataContentType":"application/json","time":"2021-02-05T17:31:00Z","dataSchema":null,"data":{"version":"v1.0","values":[{"resource":"/cluster/node/ptp","dataType":"notification","valueType":"enumeration","value":"ACQUIRING-SYNC"},{"resource":"/cluster/node/clock","dataType":"metric","valueType":"decimal64.3","value":100.3}]}}`)
	expect(t, "POST create/event", code, h, body, 202, `={"status":"Event sent"}`)
	var got map[string]any
	testkit.Eventually(t, 30*time.Second, func() bool {
		evs := cons.eventsWith("source", res)
		if len(evs) > 0 {
			got = evs[0]
		}
		return got != nil
	}, "the event did not reach the subscriber")
	if got["subject"] != "/cluster/node/example.com/ptp/clock_realtime" || got["type"] != "event.sync.sync-status.synchronization-state-change" {
		t.Errorf("delivered %v", got)
	}
	// cloud-event-proxy's v1 CloudEvent: specversion 0.3.
	if got["specversion"] != "0.3" || got["datacontenttype"] != "application/json" || got["time"] != "2021-02-05T17:31:00Z" {
		t.Errorf("delivered %v, want specversion 0.3 and datacontenttype application/json", got)
	}
	if d, _ := json.Marshal(got["data"]); !bytes.Contains(d, []byte(`"dataType":"metric"`)) || !bytes.Contains(d, []byte(`"value":100.3`)) {
		t.Errorf("delivered data %s", d)
	}
	testkit.Eventually(t, 30*time.Second, func() bool {
		code, h, body = oranDo(t, b, "GET", v1+res[1:]+"/CurrentState", "")
		return code == 200
	}, "CurrentState: %d %s", code, body)
	expect(t, "GET CurrentState", code, h, body, 200, "data,dataContentType,id,source,time,type")
	if field(t, body, "source") != "/cluster/node/example.com/ptp/clock_realtime" || !bytes.Contains(body, []byte(`"valueType":"enumeration"`)) {
		t.Errorf("CurrentState %s", body)
	}

	code, h, body = oranDo(t, b, "PUT", v1+"subscriptions/status/"+id, "")
	expect(t, "PUT status", code, h, body, 202, `={"status":"ping sent"}`)
	code, h, body = oranDo(t, b, "GET", v1+"health", "")
	expect(t, "GET health", code, h, body, 200, "=OK")
	code, h, body = oranDo(t, b, "POST", v1+"dummy", "")
	expect(t, "POST dummy", code, h, body, 204, "")
	code, h, body = oranDo(t, b, "DELETE", v1+"subscriptions/"+id, "")
	expect(t, "DELETE subscription", code, h, body, 200, `={"status":"OK"}`)
	code, h, body = oranDo(t, b, "DELETE", v1+"subscriptions/"+id, "")
	expect(t, "DELETE subscription again", code, h, body, 400, "error")
	code, h, body = oranDo(t, b, "DELETE", v1+"subscriptions", "")
	expect(t, "DELETE subscriptions", code, h, body, 200, `={"status":"deleted all subscriptions"}`)
	code, h, body = oranDo(t, b, "DELETE", v1+"publishers", "")
	expect(t, "DELETE publishers", code, h, body, 200, `={"status":"deleted all publishers"}`)
	code, h, body = oranDo(t, b, "GET", v1+"publishers", "")
	expect(t, "GET publishers empty", code, h, body, 200, "=[]")
}

// TestOranRefusesPrivateEndpoints: without api.allow_private_addresses, an
// endpointUri on a loopback address is refused (400) before any request
// is sent to it.
func TestOranRefusesPrivateEndpoints(t *testing.T) {
	b := startBridge(t, `oran: {listen: "127.0.0.1:0"}`)
	cons := newOranConsumer(t)
	code, h, body := oranDo(t, b, "POST", "/api/ocloudNotifications/v2/subscriptions", `{"ResourceAddress":"/a/b","EndpointUri":"`+cons.URL("/event")+`"}`)
	expect(t, "v2 POST subscriptions", code, h, body, 400, "")
	code, h, body = oranDo(t, b, "POST", "/api/ocloudNotifications/v1/subscriptions", `{"resource":"/a/b","endpointUri":"http://10.1.2.3/event"}`)
	expect(t, "v1 POST subscriptions", code, h, body, 400, "error")
	if !strings.Contains(field(t, body, "error"), "allow_private_addresses") {
		t.Errorf("error %s", body)
	}
	code, h, body = oranDo(t, b, "POST", "/api/ocloudNotifications/v2/publishers", `{"ResourceAddress":"/a/b","EndpointUri":"http://[::1]:9/x"}`)
	expect(t, "v2 POST publishers", code, h, body, 400, "error")
	if n := len(cons.Posts()); n != 0 {
		t.Errorf("the consumer got %d requests", n)
	}
}

// TestOranFailAfter: a client whose endpoint refuses connections for
// fail_after deliveries in a row loses all its subscriptions; another
// client keeps its own.
func TestOranFailAfter(t *testing.T) {
	b := startBridge(t, `
api: {allow_private_addresses: true}
oran: {listen: "127.0.0.1:0", fail_after: 3}
sources: {in: {type: http, path: /events}}
`)
	gone := newOranConsumer(t)
	stays := newOranConsumer(t)
	const v1 = "/api/ocloudNotifications/v1/"
	var ids []string
	for _, res := range []string{"/r/one", "/r/two"} {
		code, h, body := oranDo(t, b, "POST", v1+"subscriptions", `{"resource":"`+res+`","endpointUri":"`+gone.URL("/event")+`"}`)
		expect(t, "POST subscriptions", code, h, body, 201, "endpointUri,id,resource,uriLocation")
		ids = append(ids, field(t, body, "id"))
	}
	code, h, body := oranDo(t, b, "POST", v1+"subscriptions", `{"resource":"/r/one","endpointUri":"`+stays.URL("/event")+`"}`)
	expect(t, "POST subscriptions", code, h, body, 201, "endpointUri,id,resource,uriLocation")
	kept := field(t, body, "id")
	gone.srv.Close() // connection refused from now on

	// Each delivery attempt to the closed endpoint is refused; the
	// retries count too.
	postState(t, b, "e1", "/r/one", "LOCKED")
	postState(t, b, "e2", "/r/two", "LOCKED")
	testkit.Eventually(t, 30*time.Second, func() bool { return len(stays.eventsWith("id", "e1")) == 1 }, "the other client got no event")
	for i := 3; i < 8; i++ {
		postState(t, b, "e"+string(rune('0'+i)), "/r/one", "LOCKED")
	}
	testkit.Eventually(t, 60*time.Second, func() bool {
		for _, id := range ids {
			if code, _, _ := oranDo(t, b, "GET", v1+"subscriptions/"+id, ""); code != 400 {
				return false
			}
		}
		return true
	}, "the failing client's subscriptions were not deleted")
	if code, _, _ := oranDo(t, b, "GET", v1+"subscriptions/"+kept, ""); code != 200 {
		t.Errorf("the other client's subscription: %d", code)
	}
}

// TestOranAuth: the O-RAN listener uses api.tokens: no token is 401, a
// read token may GET but not POST, /health is open.
func TestOranAuth(t *testing.T) {
	b := startBridge(t, `
api:
  tokens:
    reader: {sha256: "`+sha256hex("reader-token-0123456789")+`", scopes: [read]}
oran: {listen: "127.0.0.1:0"}
`)
	do := func(method, path, token string) int {
		req, _ := http.NewRequest(method, "http://"+b.OranAddr()+"/api/ocloudNotifications/v2/"+path, strings.NewReader(`{}`))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := do("GET", "subscriptions", ""); code != 401 {
		t.Errorf("no token: %d", code)
	}
	if code := do("GET", "subscriptions", "reader-token-0123456789"); code != 200 {
		t.Errorf("reader GET: %d", code)
	}
	if code := do("POST", "subscriptions", "reader-token-0123456789"); code != 403 {
		t.Errorf("reader POST: %d", code)
	}
	if code := do("GET", "health", ""); code != 200 {
		t.Errorf("health: %d", code)
	}
}

// TestOranFailAfterAMQP: an amqp:// endpoint that refuses connections
// counts toward oran.fail_after like an HTTP one: the client loses its
// subscriptions.
func TestOranFailAfterAMQP(t *testing.T) {
	b := startBridge(t, `
api: {allow_private_addresses: true}
oran: {listen: "127.0.0.1:0", fail_after: 3}
sources: {in: {type: http, path: /events}}
`)
	const v1 = "/api/ocloudNotifications/v1/"
	// Port 1 of the loopback: connection refused.
	code, h, body := oranDo(t, b, "POST", v1+"subscriptions", `{"resource":"/r/amqp-refused","endpointUri":"amqp://127.0.0.1:1/ptp-events"}`)
	expect(t, "POST subscriptions", code, h, body, 201, "endpointUri,id,resource,uriLocation")
	id := field(t, body, "id")
	for i := range 5 {
		postState(t, b, "amqp-e"+string(rune('0'+i)), "/r/amqp-refused", "LOCKED")
	}
	testkit.Eventually(t, 60*time.Second, func() bool {
		code, _, _ := oranDo(t, b, "GET", v1+"subscriptions/"+id, "")
		return code == http.StatusBadRequest
	}, "the subscription of the refusing amqp:// endpoint was not deleted")
}
