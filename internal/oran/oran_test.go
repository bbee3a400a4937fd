package oran

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/google/uuid"

	"github.com/eventbridge-dev/eventbridge/internal/connector"
	_ "github.com/eventbridge-dev/eventbridge/internal/connector/http"
	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
	"github.com/eventbridge-dev/eventbridge/internal/resource"
	"github.com/eventbridge-dev/eventbridge/internal/transform"
)

func TestPubSubJSONKeys(t *testing.T) {
	for _, in := range []string{
		`{"id":"i","endpointUri":"http://e/x","uriLocation":"http://l/x","resource":"/r"}`,
		`{"SubscriptionId":"i","EndpointUri":"http://e/x","UriLocation":"http://l/x","ResourceAddress":"/r"}`,
	} {
		var p PubSub
		if err := json.Unmarshal([]byte(in), &p); err != nil {
			t.Fatal(err)
		}
		if p.ID != "i" || p.EndpointURI != "http://e/x" || p.URILocation != "http://l/x" || p.Resource != "/r" {
			t.Errorf("%s: %+v", in, p)
		}
		p.Version = V1
		if b, _ := json.Marshal(p); string(b) != `{"resource":"/r","endpointUri":"http://e/x","id":"i","uriLocation":"http://l/x"}` {
			t.Errorf("v1: %s", b)
		}
		p.Version = V2
		if b, _ := json.Marshal(p); string(b) != `{"ResourceAddress":"/r","EndpointUri":"http://e/x","SubscriptionId":"i","UriLocation":"http://l/x"}` {
			t.Errorf("v2: %s", b)
		}
	}
	// id and uriLocation only when set.
	if b, _ := json.Marshal(PubSub{Resource: "/r", EndpointURI: "http://e"}); string(b) != `{"ResourceAddress":"/r","EndpointUri":"http://e"}` {
		t.Errorf("%s", b)
	}
	var p PubSub
	if err := json.Unmarshal([]byte(`{"resource":5}`), &p); err == nil {
		t.Error("a number as resource was accepted")
	}
}

func TestClientID(t *testing.T) {
	want := uuid.NewMD5(uuid.NameSpaceURL, []byte("http://consumer:9089/event")).String()
	if got := ClientID("http://consumer:9089/event"); got != want || ClientID("http://other/event") == want {
		t.Errorf("ClientID = %s, want %s", got, want)
	}
}

func TestResourcesRule(t *testing.T) {
	p := &PubSub{Kind: KindSubscription, Version: V2, ID: "abc", Resource: "/sync/ptp-status/lock-state", EndpointURI: "http://c/event"}
	o, err := p.Object()
	if err != nil || o.Kind != resource.KindOranSubscription || o.Name != "abc" {
		t.Fatalf("%+v %v", o, err)
	}
	back, _ := FromObject(o)
	if *back != *p {
		t.Errorf("round trip %+v", back)
	}
	tg, rl, err := Resources(o, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := resource.DecodeConnector(resource.KindTarget, tg.Spec, "spec"); err != nil {
		t.Errorf("target: %v\n%s", err, tg.Spec)
	}
	r, err := resource.DecodeRule(rl.Spec, "spec")
	if err != nil {
		t.Fatalf("rule: %v", err)
	}
	if r.Targets[0] != "oran-abc" || !strings.Contains(string(rl.Spec), `"source":"/sync/ptp-status/lock-state"`) {
		t.Errorf("rule %s", rl.Spec)
	}
	if !strings.Contains(string(tg.Spec), `"Content-Type":"application/json"`) || !strings.Contains(string(tg.Spec), `"mode":"structured"`) || !strings.Contains(string(tg.Spec), `"block_private":true`) {
		t.Errorf("target %s", tg.Spec)
	}
}

const cneV1 = `{"id":"pub","type":"event.sync.sync-status.synchronization-state-change","source":"/cluster/node/example.com/ptp/clock_realtime","dataContentType":"application/json","time":"2021-02-05T17:31:00Z","dataSchema":null,"data":{"version":"v1.0","values":[{"resource":"/cluster/node/ptp","dataType":"notification","valueType":"enumeration","value":"ACQUIRING-SYNC"},{"resource":"/cluster/node/clock","dataType":"metric","valueType":"decimal64.3","value":100.3}]}}`

func TestMapping(t *testing.T) {
	var e Event
	if err := json.Unmarshal([]byte(cneV1), &e); err != nil {
		t.Fatal(err)
	}
	if err := e.Validate(); err != nil {
		t.Fatal(err)
	}
	pub := &PubSub{Resource: "/east-edge-10/vdu3/sync-state"}

	v1, err := ToCloudEvent(&e, pub, V1)
	if err != nil {
		t.Fatal(err)
	}
	if v1.Source() != pub.Resource || v1.Subject() != e.Source || v1.Type() != e.Type || v1.ID() == "pub" || v1.Time().Format(time.RFC3339) != "2021-02-05T17:31:00Z" {
		t.Errorf("v1: %v", v1)
	}
	if got := string(v1.Data()); got != `{"version":"v1.0","values":[{"resource":"/cluster/node/ptp","dataType":"notification","valueType":"enumeration","value":"ACQUIRING-SYNC"},{"resource":"/cluster/node/clock","dataType":"metric","valueType":"decimal64.3","value":100.3}]}` {
		t.Errorf("v1 data %s", got)
	}
	v2, err := ToCloudEvent(&e, pub, V2)
	if err != nil {
		t.Fatal(err)
	}
	if v2.Source() != e.Source || v2.Subject() != "" || v2.SpecVersion() != "1.0" {
		t.Errorf("v2: %v", v2)
	}
	if got := string(v2.Data()); !strings.Contains(got, `{"ResourceAddress":"/cluster/node/clock","data_type":"metric","value_type":"decimal64.3","value":100.3}`) {
		t.Errorf("v2 data %s", got)
	}
	// Back: the source is the subject when there is one.
	back, err := FromCloudEvent(v1, V1)
	if err != nil || back.Source != e.Source || back.Type != e.Type || back.Data.Values[1].Value.(json.Number).String() != "100.3" {
		t.Errorf("back %+v %v", back, err)
	}
	n, err := Notification(v1, "new-id")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.Unmarshal(n, &m)
	if m["specversion"] != "1.0" || m["id"] != "new-id" || m["source"] != pub.Resource || len(m) != 6 {
		t.Errorf("notification %s", n)
	}
	if !strings.Contains(string(n), `"ResourceAddress":"/cluster/node/ptp","data_type":"notification"`) {
		t.Errorf("notification data %s", n)
	}
	// The markers of no state, and empty data, are no state.
	noState := ce.New()
	noState.SetID("x")
	noState.SetSource("/a")
	noState.SetType("t")
	if _, err := Notification(&noState, ""); err == nil {
		t.Error("an event without data was shown")
	}
	_ = noState.SetData("application/json", map[string]any{"values": []any{map[string]any{"ResourceAddress": "/a/event not found"}}})
	if _, err := Notification(&noState, ""); err == nil {
		t.Error("an 'event not found' marker was shown")
	}
	bad := Event{ID: "p", Type: "t", Data: &Data{Values: []Value{{DataType: "other"}}}}
	if bad.Validate() == nil {
		t.Error("data type other was accepted")
	}
}

func TestConnectionFailure(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("http POST: %w", &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}), true},
		{fmt.Errorf("x: %w", &net.DNSError{Err: "no such host", Name: "nope"}), true},
		{fmt.Errorf("x: %w", context.DeadlineExceeded), true},
		{&connector.StatusError{Code: 500, Err: errors.New("HTTP 500")}, false},
		{errors.New("HTTP 400"), false},
		// The amqp1 target: not connected, and why.
		{fmt.Errorf("%w: %w", connector.ErrNotConnected, fmt.Errorf("dial amqp://127.0.0.1:1: %w", &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED})), true},
		{fmt.Errorf("%w: %w", connector.ErrNotConnected, &net.DNSError{Err: "no such host", Name: "broker"}), true},
		{connector.ErrNotConnected, false},
	} {
		if got := connectionFailure(c.err); got != c.want {
			t.Errorf("%v: %v", c.err, got)
		}
	}
}

// TestFailuresInARow: FailAfter connection failures in a row remove the
// client; a success or another kind of error in between starts over;
// other clients and other rules are not counted.
func TestFailuresInARow(t *testing.T) {
	s := New(Config{FailAfter: 3})
	removed := make(chan string, 4)
	s.remove = func(c string) {
		removed <- c
		s.fmu.Lock()
		delete(s.removing, c)
		delete(s.fails, c)
		s.fmu.Unlock()
	}
	s.clients["a1"], s.clients["a2"], s.clients["b"] = "ca", "ca", "cb"
	refused := &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}
	s.Delivered(RuleName("a1"), "", refused)
	s.Delivered(RuleName("a2"), "", refused)
	s.Delivered(RuleName("a1"), "", nil) // delivered: starts over
	s.Delivered(RuleName("a1"), "", refused)
	s.Delivered(RuleName("b"), "", refused)
	s.Delivered(RuleName("a2"), "", &connector.StatusError{Code: 500, Err: errors.New("500")})
	s.Delivered("other-rule", "", refused)
	s.Delivered(RuleName("a1"), "", refused)
	s.Delivered(RuleName("a1"), "", connector.ErrNotConnected) // neither counts nor starts over
	s.Delivered(RuleName("a1"), "", refused)
	select {
	case c := <-removed:
		t.Fatalf("client %s removed too early", c)
	default:
	}
	s.Delivered(RuleName("a2"), "", refused)
	select {
	case c := <-removed:
		if c != "ca" {
			t.Errorf("removed %s", c)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the client was not removed after 3 failures in a row")
	}
	never := New(Config{FailAfter: 0})
	never.remove = func(string) { t.Error("fail_after 0 removed a client") }
	never.clients["a"] = "ca"
	for range 20 {
		never.Delivered(RuleName("a"), "", refused)
	}
}

// TestV1Delivery: the rule of a v1 subscription turns the bus's
// CloudEvent 1.0 into cloud-event-proxy's v1 one (specversion 0.3, source
// the resource address, subject the cloud native event's source,
// datacontenttype application/json, v1 value keys), as its structured
// JSON shows; a v2 subscription's rule leaves the event at 1.0.
func TestV1Delivery(t *testing.T) {
	var e Event
	if err := json.Unmarshal([]byte(cneV1), &e); err != nil {
		t.Fatal(err)
	}
	const addr = "/east-edge-10/vdu3/sync-state"
	fromV1, err := ToCloudEvent(&e, &PubSub{Resource: addr}, V1)
	if err != nil {
		t.Fatal(err)
	}
	// An event of another source: source the address, no subject, the v2
	// keys, no datacontenttype.
	other := ce.New()
	other.SetID("other-1")
	other.SetSource(addr)
	other.SetType("event.sync.sync-status.synchronization-state-change")
	ebevent.SetData(&other, "", []byte(`{"version":"1.0","values":[{"ResourceAddress":"`+addr+`","data_type":"notification","value_type":"enumeration","value":"LOCKED"}]}`))

	rules := map[string]*resource.Rule{}
	for _, v := range []string{V1, V2} {
		p := &PubSub{Kind: KindSubscription, Version: v, ID: "id-" + v, Resource: addr, EndpointURI: "http://c/event"}
		o, _ := p.Object()
		_, rl, err := Resources(o, true)
		if err != nil {
			t.Fatal(err)
		}
		if rules[v], err = resource.DecodeRule(rl.Spec, "spec"); err != nil {
			t.Fatalf("%s rule: %v\n%s", v, err, rl.Spec)
		}
	}
	tr, err := transform.Compile(rules[V1].Transform)
	if err != nil || tr == nil {
		t.Fatalf("v1 rule transform: %v %v", tr, err)
	}
	if !rules[V2].Transform.IsZero() {
		t.Errorf("v2 rule has a transform: %+v", rules[V2].Transform)
	}
	for _, c := range []struct {
		in                *ce.Event
		subject, wantData string
	}{
		{fromV1, e.Source, `{"values":[{"dataType":"notification","resource":"/cluster/node/ptp","value":"ACQUIRING-SYNC","valueType":"enumeration"},{"dataType":"metric","resource":"/cluster/node/clock","value":100.3,"valueType":"decimal64.3"}],"version":"v1.0"}`},
		{&other, addr, `{"values":[{"dataType":"notification","resource":"` + addr + `","value":"LOCKED","valueType":"enumeration"}],"version":"1.0"}`},
	} {
		out, err := tr.Apply(context.Background(), c.in)
		if err != nil {
			t.Fatalf("%s: %v", c.in.ID(), err)
		}
		body, err := ebevent.EncodeJSON(out)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatal(err)
		}
		str := func(k string) string { var s string; _ = json.Unmarshal(m[k], &s); return s }
		if str("specversion") != "0.3" || str("source") != addr || str("subject") != c.subject ||
			str("datacontenttype") != "application/json" || str("id") != c.in.ID() || str("type") != c.in.Type() {
			t.Errorf("%s: delivered %s", c.in.ID(), body)
		}
		var data any // compared with sorted keys
		_ = json.Unmarshal(m["data"], &data)
		if got, _ := json.Marshal(data); string(got) != c.wantData {
			t.Errorf("%s: data %s, want %s", c.in.ID(), got, c.wantData)
		}
		// It reads back as a 0.3 event.
		back := ce.New()
		if err := back.UnmarshalJSON(body); err != nil || back.SpecVersion() != ce.CloudEventsVersionV03 || back.Subject() != c.subject {
			t.Errorf("%s: read back %v %v", c.in.ID(), back, err)
		}
		if c.in.SpecVersion() != "1.0" {
			t.Errorf("the transform changed the bus's event")
		}
	}
}
