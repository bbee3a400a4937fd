package grpc_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/binding/format/protobuf/v2/pb"
	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
	"github.com/eventbridge-dev/eventbridge/internal/connector/grpc"
	"github.com/eventbridge-dev/eventbridge/internal/jobs"
	"github.com/eventbridge-dev/eventbridge/internal/resource"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
	"github.com/eventbridge-dev/eventbridge/pkg/cepb"
	"github.com/eventbridge-dev/eventbridge/pkg/cloudsync"
	csgrpc "github.com/eventbridge-dev/eventbridge/pkg/cloudsync/grpc"
)

var testDT = cloudsync.MustParseDataType("io.example.v1.things")

// fakeJobs is a jobs.Scheduler whose state outlives a source, as the
// bridge's KV bucket does.
type fakeJobs struct{ st *jobs.MemStore }

func (f *fakeJobs) Add(context.Context, jobs.Job) error  { return nil }
func (f *fakeJobs) Remove(context.Context, string) error { return nil }
func (f *fakeJobs) State(string) jobs.Store              { return f.st }
func newFakeJobs() *fakeJobs                             { return &fakeJobs{st: jobs.NewMemStore()} }

var _ jobs.Scheduler = (*fakeJobs)(nil)

// startBroker starts a grpc source in broker mode on a free port; extra
// are more options of broker, top more options of the source.
func startBroker(t *testing.T, extra string, sched jobs.Scheduler, top ...string) (string, connector.Source) {
	t.Helper()
	var addrs freeAddrs
	addr := addrs.get(t, "b")
	deps := connectortest.Deps(connectortest.NewCollector())
	deps.Jobs = sched
	cfg := fmt.Sprintf(`{"type":"grpc","listen":%q,"broker":{"enabled":true%s}%s}`, addr, extra, strings.Join(top, ""))
	return addr, connectortest.StartSourceWith(t, "broker", cfg, deps)
}

func specEvent(source, cluster, id string, version int64, deleted bool) cloudevents.Event {
	act := cloudsync.UpdateRequest
	o := cloudsync.EventOptions{ClusterName: cluster, ResourceID: id, ResourceVersion: &version}
	if deleted {
		act = cloudsync.DeleteRequest
		o.DeletionTimestamp = time.Now()
	}
	e := cloudsync.NewEvent(source, cloudsync.EventType{DataType: testDT, SubResource: cloudsync.SubResourceSpec, Action: act}, o)
	if !deleted {
		_ = e.SetData(cloudevents.ApplicationJSON, map[string]any{"id": id, "v": version})
	}
	return e
}

func publish(t *testing.T, c cepb.CloudEventServiceClient, e cloudevents.Event) {
	t.Helper()
	p, err := csgrpc.ToProto(e)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.Publish(ctx, &cepb.PublishRequest{Event: p}); err != nil {
		t.Fatalf("publish %s: %v", e.Type(), err)
	}
}

// subscribe opens a raw stream and returns its header and a channel of
// what arrives (heartbeats included).
func subscribe(t *testing.T, c cepb.CloudEventServiceClient, req *cepb.SubscriptionRequest) (metadata.MD, <-chan *pb.CloudEvent) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	st, err := c.Subscribe(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	md, err := st.Header()
	if err != nil {
		t.Fatalf("header: %v", err)
	}
	ch := make(chan *pb.CloudEvent, 1000)
	go func() {
		defer close(ch)
		for {
			p, err := st.Recv()
			if err != nil {
				return
			}
			ch <- p
		}
	}()
	return md, ch
}

// until reads events (heartbeats skipped) until one with resourceid or
// id stop.
func until(t *testing.T, ch <-chan *pb.CloudEvent, stop string) []cloudevents.Event {
	t.Helper()
	var got []cloudevents.Event
	deadline := time.After(60 * time.Second)
	for {
		select {
		case p, ok := <-ch:
			if !ok {
				t.Fatal("stream ended")
			}
			if p.Type == cloudsync.HeartbeatType {
				continue
			}
			e, err := csgrpc.FromProto(p)
			if err != nil {
				t.Fatalf("bad event from the broker: %v", err)
			}
			if e.ID() == stop || cloudsync.ExtString(&e, cloudsync.ExtResourceID) == stop {
				return got
			}
			got = append(got, e)
		case <-deadline:
			t.Fatalf("no event %q after 60s (got %d)", stop, len(got))
		}
	}
}

func TestBrokerSubscribeRefusals(t *testing.T) {
	addr, _ := startBroker(t, "", nil)
	c := client(t, addr)
	for name, req := range map[string]*cepb.SubscriptionRequest{
		"no cluster or source": {DataType: testDT.String()},
		"bad data type":        {ClusterName: "c1", DataType: "things"},
		"no data type":         {ClusterName: "c1"},
	} {
		st, err := c.Subscribe(context.Background(), req)
		if err == nil {
			_, err = st.Recv()
		}
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("%s: %v, want InvalidArgument", name, err)
		}
	}
}

func TestBrokerPublishRefusals(t *testing.T) {
	addr, _ := startBroker(t, "", nil)
	c := client(t, addr)
	bad := specEvent("src", "c1", "a", 1, false)
	bad.SetType("com.example.not.ocm")
	p, _ := csgrpc.ToProto(bad)
	if _, err := c.Publish(context.Background(), &cepb.PublishRequest{Event: p}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("unparseable type: %v, want InvalidArgument", err)
	}
	if _, err := c.Publish(context.Background(), &cepb.PublishRequest{Event: &pb.CloudEvent{SpecVersion: "1.0"}}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("no id, source or type: %v, want InvalidArgument", err)
	}
	req := cloudsync.NewEvent("agent", cloudsync.EventType{DataType: testDT, SubResource: cloudsync.SubResourceSpec, Action: cloudsync.ResyncRequest}, cloudsync.EventOptions{ClusterName: "c1"})
	_ = req.SetData(cloudevents.ApplicationJSON, []byte(`{"resourceVersions":"not a list"}`))
	p, _ = csgrpc.ToProto(req)
	if _, err := c.Publish(context.Background(), &cepb.PublishRequest{Event: p}); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("bad resync request: %v, want FailedPrecondition", err)
	}
}

// Subscribe answers with a subscription-id header at once and sends
// heartbeats at the configured interval.
func TestBrokerHeartbeats(t *testing.T) {
	defer grpc.SetMinHeartbeat(100 * time.Millisecond)()
	addr, _ := startBroker(t, `,"heartbeat_interval":"200ms"`, nil)
	md, ch := subscribe(t, client(t, addr), &cepb.SubscriptionRequest{ClusterName: "c1", DataType: testDT.String()})
	ids := md.Get("subscription-id")
	if len(ids) != 1 || uuid.Validate(ids[0]) != nil {
		t.Fatalf("subscription-id header: %v", md)
	}
	seen := map[string]bool{}
	deadline := time.After(60 * time.Second)
	for len(seen) < 3 {
		select {
		case p := <-ch:
			if p == nil {
				t.Fatal("stream ended")
			}
			if p.Type != cloudsync.HeartbeatType || p.SpecVersion != "1.0" || p.Id == "" || len(p.Attributes) != 0 {
				t.Fatalf("not a heartbeat: %v", p)
			}
			seen[p.Id] = true
		case <-deadline:
			t.Fatalf("%d heartbeats in 60s", len(seen))
		}
	}
}

func TestBrokerHeartbeatIntervalValidated(t *testing.T) {
	problems := func(broker string) []string {
		_, err := resource.DecodeConnector(resource.KindSource, json.RawMessage(`{"type":"grpc","listen":"127.0.0.1:1","broker":`+broker+`}`), "source")
		var ve *spec.ValidationError
		if err != nil && !errors.As(err, &ve) {
			t.Fatal(err)
		}
		var out []string
		if ve != nil {
			for _, p := range ve.Problems {
				out = append(out, p.Path)
			}
		}
		return out
	}
	if got := problems(`{"enabled":true,"heartbeat_interval":"5s"}`); fmt.Sprint(got) != "[source.broker.heartbeat_interval]" {
		t.Errorf("5s: %v", got)
	}
	if got := problems(`{"enabled":true,"heartbeat_interval":"5s","disable_heartbeat":true}`); len(got) != 0 {
		t.Errorf("disabled heartbeats: %v", got)
	}
	if got := problems(`{"enabled":true}`); len(got) != 0 {
		t.Errorf("defaults: %v", got)
	}
}

// Spec events reach the agents of their cluster only, status events the
// source they name (or all sources when originalsource is ""), status
// resync requests the agents of their cluster or of all clusters.
func TestBrokerRouting(t *testing.T) {
	addr, _ := startBroker(t, "", nil)
	c := client(t, addr)
	_, a1 := subscribe(t, c, &cepb.SubscriptionRequest{ClusterName: "c1", DataType: testDT.String()})
	_, a2 := subscribe(t, c, &cepb.SubscriptionRequest{ClusterName: "c2", DataType: testDT.String()})
	_, s1 := subscribe(t, c, &cepb.SubscriptionRequest{Source: "s1", DataType: testDT.String()})
	_, s2 := subscribe(t, c, &cepb.SubscriptionRequest{Source: "s2", DataType: testDT.String()})
	status := func(orig, id string) cloudevents.Event {
		v := int64(1)
		return cloudsync.NewEvent("agent-c1", cloudsync.EventType{DataType: testDT, SubResource: cloudsync.SubResourceStatus, Action: cloudsync.UpdateRequest},
			cloudsync.EventOptions{ClusterName: "c1", OriginalSource: orig, ResourceID: id, ResourceVersion: &v})
	}
	statusResync := func(cluster, id string) cloudevents.Event {
		e := cloudsync.NewEvent("s1", cloudsync.EventType{DataType: testDT, SubResource: cloudsync.SubResourceStatus, Action: cloudsync.ResyncRequest},
			cloudsync.EventOptions{ClusterName: cluster, ResourceID: id})
		_ = e.SetData(cloudevents.ApplicationJSON, []byte(`{"statusHashes":[]}`))
		return e
	}
	other := specEvent("s1", "c1", "other-type", 1, false)
	other.SetType("io.example.v1.others.spec.update_request")
	for _, e := range []cloudevents.Event{
		specEvent("s1", "c1", "spec-c1", 1, false),
		specEvent("s1", "c2", "spec-c2", 1, false),
		other,
		status("s1", "status-s1"),
		status("", "status-all"),
		statusResync("c1", "resync-c1"),
		statusResync("", "resync-all"),
		specEvent("s1", "c1", "end", 1, false),
		specEvent("s1", "c2", "end", 1, false),
		status("s1", "end"),
		status("s2", "end"),
	} {
		publish(t, c, e)
	}
	ids := func(es []cloudevents.Event) string {
		var out []string
		for _, e := range es {
			out = append(out, cloudsync.ExtString(&e, cloudsync.ExtResourceID))
		}
		sort.Strings(out)
		return strings.Join(out, ",")
	}
	for name, tc := range map[string]struct {
		ch   <-chan *pb.CloudEvent
		want string
	}{
		"agent c1":  {a1, "resync-all,resync-c1,spec-c1"},
		"agent c2":  {a2, "resync-all,spec-c2"},
		"source s1": {s1, "status-all,status-s1"},
		"source s2": {s2, "status-all"},
	} {
		if got := ids(until(t, tc.ch, "end")); got != tc.want {
			t.Errorf("%s got %s, want %s", name, got, tc.want)
		}
	}
}

type wantResp struct {
	id      string
	version int64
	deleted bool
}

// The broker answers spec resync requests itself (spec §3A) from the
// latest spec it saw of each object, also after a restart.
func TestBrokerSpecResync(t *testing.T) {
	sched := newFakeJobs()
	addr, src := startBroker(t, "", sched)
	c := client(t, addr)
	for _, e := range []cloudevents.Event{
		specEvent("s1", "c1", "a", 1, false),
		specEvent("s1", "c1", "a", 2, false),
		specEvent("s1", "c1", "b", 3, false),
		specEvent("s1", "c1", "d", 4, false),
		specEvent("s1", "c1", "d", 4, true), // deleted
		specEvent("s1", "c1", "z", 0, false),
		specEvent("s2", "c1", "o", 5, false), // another source's
		specEvent("s1", "c3", "q", 1, false), // another cluster's
	} {
		publish(t, c, e)
	}
	// A restart on the same state: the answers come from what was kept.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := src.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	addr, _ = startBroker(t, "", sched)
	c = client(t, addr)

	cases := []struct {
		name     string
		cluster  string
		orig     string
		versions string
		want     []wantResp
	}{
		{"stale and unknown ids", "c1", "s1", `[{"resourceID":"a","resourceVersion":1},{"resourceID":"b","resourceVersion":3},{"resourceID":"x","resourceVersion":7}]`,
			[]wantResp{{"a", 2, false}, {"d", 4, true}, {"x", 7, true}, {"z", 0, false}}},
		{"agent has nothing", "c1", "s1", `[]`,
			[]wantResp{{"a", 2, false}, {"b", 3, false}, {"d", 4, true}, {"z", 0, false}}},
		{"up to date", "c1", "s1", `[{"resourceID":"a","resourceVersion":2},{"resourceID":"b","resourceVersion":9},{"resourceID":"z","resourceVersion":3}]`,
			[]wantResp{{"d", 4, true}, {"z", 0, false}}},
		{"all sources", "c1", "", `[{"resourceID":"a","resourceVersion":2},{"resourceID":"b","resourceVersion":3},{"resourceID":"o","resourceVersion":1}]`,
			[]wantResp{{"d", 4, true}, {"o", 5, false}, {"z", 0, false}}},
		{"no objects of the cluster", "c2", "", `[{"resourceID":"y","resourceVersion":1}]`, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, ch := subscribe(t, c, &cepb.SubscriptionRequest{ClusterName: tc.cluster, DataType: testDT.String()})
			req := cloudsync.NewEvent("agent", cloudsync.EventType{DataType: testDT, SubResource: cloudsync.SubResourceSpec, Action: cloudsync.ResyncRequest},
				cloudsync.EventOptions{ClusterName: tc.cluster, OriginalSource: tc.orig})
			_ = req.SetData(cloudevents.ApplicationJSON, []byte(`{"resourceVersions":`+tc.versions+`}`))
			publish(t, c, req)
			// The answers are queued before Publish returns; an event
			// published after them marks their end (without a resource
			// id, the broker does not keep it).
			end := specEvent("s9", tc.cluster, "", 1, false)
			publish(t, c, end)
			var got []wantResp
			for _, e := range until(t, ch, end.ID()) {
				if e.Type() != testDT.String()+".spec.resync_response" {
					t.Errorf("type %s", e.Type())
				}
				if cloudsync.ExtString(&e, cloudsync.ExtClusterName) != tc.cluster {
					t.Errorf("clustername %q", cloudsync.ExtString(&e, cloudsync.ExtClusterName))
				}
				v, _, _ := cloudsync.ExtInt64(&e, cloudsync.ExtResourceVersion)
				_, del, _ := cloudsync.ExtTime(&e, cloudsync.ExtDeletionTimestamp)
				if del && len(e.Data()) > 0 {
					t.Errorf("deletion with data: %s", e.Data())
				}
				if !del {
					var body map[string]any
					if err := json.Unmarshal(e.Data(), &body); err != nil || body["id"] != cloudsync.ExtString(&e, cloudsync.ExtResourceID) {
						t.Errorf("spec data %s", e.Data())
					}
				}
				got = append(got, wantResp{cloudsync.ExtString(&e, cloudsync.ExtResourceID), v, del})
			}
			sort.Slice(got, func(i, j int) bool { return got[i].id < got[j].id })
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("answers %v, want %v", got, tc.want)
			}
		})
	}
}

// The cloudsync transport against the broker: a client whose stream sees
// no heartbeat within its healthiness timeout reconnects; one that gets
// heartbeats does not.
func TestTransportHeartbeatHealthiness(t *testing.T) {
	defer grpc.SetMinHeartbeat(100 * time.Millisecond)()
	silentAddr, _ := startBroker(t, `,"disable_heartbeat":true`, nil)
	beatingAddr, _ := startBroker(t, `,"heartbeat_interval":"200ms"`, nil)
	run := func(addr string) (*eventLog, *csgrpc.Transport) {
		opts, err := (&csgrpc.Config{URL: addr, ServerHealthinessTimeout: ptr(csgrpc.Duration(1500 * time.Millisecond))}).Options()
		if err != nil {
			t.Fatal(err)
		}
		tr := csgrpc.NewAgentTransport(opts, "c1", testDT)
		log := &eventLog{}
		store := cloudsync.NewResourceStore()
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		ag, err := cloudsync.NewAgentClient[*cloudsync.Resource](ctx, cloudsync.AgentOptions{AgentID: "agent-c1", ClusterName: "c1", Transport: tr},
			store, nil, cloudsync.ResourceCodec{Type: testDT}, cloudsync.WithConnectionHandler(log.add), cloudsync.WithBackoff(50*time.Millisecond, 500*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = ag.Close(context.Background()) })
		if err := ag.Subscribe(ctx, func(context.Context, cloudsync.ResourceAction, *cloudsync.Resource) error { return nil }); err != nil {
			t.Fatal(err)
		}
		return log, tr
	}
	silent, tr := run(silentAddr)
	first := tr.SubscriptionID()
	beating, _ := run(beatingAddr)
	connectortest.Eventually(t, 60*time.Second, func() bool { return silent.count(cloudsync.Resubscribed) >= 2 },
		"no reconnect without heartbeats: %v", silent.states())
	if tr.SubscriptionID() == first || tr.SubscriptionID() == "" {
		t.Errorf("subscription id %q after resubscribing (was %q)", tr.SubscriptionID(), first)
	}
	if !strings.Contains(silent.lastErr(), "no heartbeat") {
		t.Errorf("lost because of %q", silent.lastErr())
	}
	if n := beating.count(cloudsync.Lost); n != 0 {
		t.Errorf("a client that gets heartbeats lost its connection %d times: %v", n, beating.states())
	}
}

func ptr[T any](v T) *T { return &v }

type eventLog struct {
	mu  sync.Mutex
	evs []cloudsync.ConnectionEvent
}

func (l *eventLog) add(e cloudsync.ConnectionEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.evs = append(l.evs, e)
}

func (l *eventLog) count(s cloudsync.ConnectionState) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, e := range l.evs {
		if e.State == s {
			n++
		}
	}
	return n
}

func (l *eventLog) states() []cloudsync.ConnectionState {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []cloudsync.ConnectionState
	for _, e := range l.evs {
		out = append(out, e.State)
	}
	return out
}

func (l *eventLog) lastErr() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := len(l.evs) - 1; i >= 0; i-- {
		if l.evs[i].State == cloudsync.Lost && l.evs[i].Err != nil {
			return l.evs[i].Err.Error()
		}
	}
	return ""
}

// The transport over TLS with a bearer token: the right token subscribes
// and publishes, a wrong one is refused Unauthenticated.
func TestTransportTLSToken(t *testing.T) {
	dir := t.TempDir()
	ca, cert, key := pki(t, dir)
	addr, _ := startBroker(t, "", nil, fmt.Sprintf(`,"token":"s3cret","tls":{"cert_file":%q,"key_file":%q}`, cert, key))
	connect := func(token string) (*csgrpc.Transport, error) {
		opts, err := (&csgrpc.Config{URL: addr, CAFile: ca, Token: token}).Options()
		if err != nil {
			t.Fatal(err)
		}
		tr := csgrpc.NewAgentTransport(opts, "c1", testDT)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := tr.Connect(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = tr.Close(context.Background()) })
		// The stream lasts as long as the context of Subscribe.
		return tr, tr.Subscribe(context.Background())
	}
	tr, err := connect("s3cret")
	if err != nil {
		t.Fatalf("subscribe with the token: %v", err)
	}
	if tr.SubscriptionID() == "" {
		t.Error("no subscription id")
	}
	got := make(chan cloudevents.Event, 1)
	go func() {
		_ = tr.Receive(context.Background(), func(_ context.Context, e cloudevents.Event) {
			select {
			case got <- e:
			default:
			}
		})
	}()
	e := specEvent("s1", "c1", "a", 1, false)
	if err := tr.Send(context.Background(), e); err != nil {
		t.Fatalf("send: %v", err)
	}
	select {
	case r := <-got:
		if r.ID() != e.ID() || cloudsync.ExtString(&r, cloudsync.ExtClusterName) != "c1" {
			t.Errorf("received %v", r)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the agent did not receive its own cluster's spec")
	}
	if _, err := connect("wrong"); status.Code(err) != codes.Unauthenticated {
		t.Errorf("wrong token: %v, want Unauthenticated", err)
	}
}
