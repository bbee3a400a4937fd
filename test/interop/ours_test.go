package interop

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/eventbridge-dev/eventbridge/pkg/cloudsync"
	csmqtt "github.com/eventbridge-dev/eventbridge/pkg/cloudsync/mqtt"
	"open-cluster-management.io/sdk-go/pkg/cloudevents/generic/types"
)

// Our clients (pkg/cloudsync) as the scenarios use them. The object type
// differs from OCM's only in the interface its methods satisfy; it wraps
// the same Widget, so both sides keep the same stores.

// ourWidget is a Widget as a cloudsync.Object (and StatusGetter: the
// default status hash covers the status).
type ourWidget struct{ *Widget }

func (w ourWidget) GetUID() string            { return w.UID }
func (w ourWidget) GetResourceVersion() int64 { return w.Version }
func (w ourWidget) GetDeletionTimestamp() *time.Time {
	if w.Deleting == nil {
		return nil
	}
	t := w.Deleting.Time
	return &t
}
func (w ourWidget) GetStatus() any {
	if w.Status == nil {
		return map[string]any{}
	}
	return w.Status
}

var ourDataType = cloudsync.DataType{Group: widgetDataType.Group, Version: widgetDataType.Version, Resource: widgetDataType.Resource}

// ourWidgetCodec builds the events with cloudsync's helpers (NewEvent, the
// Ext* readers and HashStatus), the way an application of ours would.
type ourWidgetCodec struct {
	probes *probeLog
	wire   *wireLog
}

func (c *ourWidgetCodec) EventDataType() cloudsync.DataType { return ourDataType }

func (c *ourWidgetCodec) Encode(source string, t cloudsync.EventType, w ourWidget) (*cloudevents.Event, error) {
	v := w.Version
	o := cloudsync.EventOptions{ClusterName: w.Cluster, ResourceID: w.UID, ResourceVersion: &v}
	var data any
	switch t.SubResource {
	case cloudsync.SubResourceSpec:
		if w.Deleting != nil {
			o.DeletionTimestamp = w.Deleting.Time
		} else {
			data = w.Spec
		}
	case cloudsync.SubResourceStatus:
		o.OriginalSource = w.Source
		data = w.GetStatus()
	}
	evt := cloudsync.NewEvent(source, t, o)
	if t.SubResource == cloudsync.SubResourceStatus {
		h, err := cloudsync.DefaultStatusHash[ourWidget](w)
		if err != nil {
			return nil, err
		}
		evt.SetExtension(cloudsync.ExtStatusHash, h)
	}
	if data != nil {
		if err := evt.SetData(cloudevents.ApplicationJSON, data); err != nil {
			return nil, err
		}
	}
	return &evt, nil
}

func (c *ourWidgetCodec) Decode(evt *cloudevents.Event) (ourWidget, error) {
	t, err := cloudsync.ParseEventType(evt.Type())
	if err != nil {
		return ourWidget{}, err
	}
	id := cloudsync.ExtString(evt, cloudsync.ExtResourceID)
	if len(id) > len(probePrefix) && id[:len(probePrefix)] == probePrefix {
		c.probes.add(id)
		return ourWidget{}, fmt.Errorf("probe %s", id)
	}
	w := &Widget{UID: id, Cluster: cloudsync.ExtString(evt, cloudsync.ExtClusterName)}
	v, ok, err := cloudsync.ExtInt64(evt, cloudsync.ExtResourceVersion)
	if err != nil || !ok {
		return ourWidget{}, fmt.Errorf("resourceversion: %v (present %v)", err, ok)
	}
	w.Version = v
	switch t.SubResource {
	case cloudsync.SubResourceSpec:
		w.Source = evt.Source()
		ts, ok, err := cloudsync.ExtTime(evt, cloudsync.ExtDeletionTimestamp)
		if err != nil {
			return ourWidget{}, err
		}
		if ok {
			w.Deleting = &metav1.Time{Time: ts}
		} else if err := json.Unmarshal(evt.Data(), &w.Spec); err != nil {
			return ourWidget{}, fmt.Errorf("spec data: %v", err)
		}
	case cloudsync.SubResourceStatus:
		w.Source = cloudsync.ExtString(evt, cloudsync.ExtOriginalSource)
		w.WireStatusHash = cloudsync.ExtString(evt, cloudsync.ExtStatusHash)
		w.Status = &WidgetStatus{}
		if err := json.Unmarshal(evt.Data(), w.Status); err != nil {
			return ourWidget{}, fmt.Errorf("status data: %v", err)
		}
	}
	c.wire.add(wireRecord{Action: string(t.Action), UID: w.UID, Version: w.Version, Deleting: w.Deleting != nil, Hash: w.WireStatusHash})
	return ourWidget{w}, nil
}

// ourLister lists a store as ourWidgets.
func ourLister(s *store) cloudsync.Lister[ourWidget] {
	return cloudsync.ListerFunc[ourWidget](func(o cloudsync.ListOptions) ([]ourWidget, error) {
		ws := s.list(o.ClusterName, o.Source)
		out := make([]ourWidget, len(ws))
		for i, w := range ws {
			out[i] = ourWidget{w}
		}
		return out, nil
	})
}

func ourEventType(sub cloudsync.SubResource, action types.EventAction) cloudsync.EventType {
	return cloudsync.EventType{DataType: ourDataType, SubResource: sub, Action: cloudsync.Action(action)}
}

type ourSource struct {
	c *cloudsync.SourceClient[ourWidget]
}

func (o ourSource) publishSpec(ctx context.Context, action types.EventAction, w *Widget) error {
	return o.c.Publish(ctx, ourEventType(cloudsync.SubResourceSpec, action), ourWidget{w})
}

func (o ourSource) resyncStatus(ctx context.Context, cluster string) error {
	return o.c.Resync(ctx, cluster)
}

type ourAgent struct {
	c *cloudsync.AgentClient[ourWidget]
}

func (o ourAgent) publishStatus(ctx context.Context, action types.EventAction, w *Widget) error {
	return o.c.Publish(ctx, ourEventType(cloudsync.SubResourceStatus, action), ourWidget{w})
}

func (o ourAgent) resyncSpec(ctx context.Context, source string) error {
	return o.c.Resync(ctx, source)
}

// ourOptions are the client options of the tests: quick reconnects, the
// automatic resync as the side asks, a count of the reconnect signals.
func ourOptions(t *testing.T, autoResync bool, reconnects func()) []cloudsync.Option {
	return []cloudsync.Option{
		cloudsync.WithResync(autoResync),
		cloudsync.WithBackoff(200*time.Millisecond, time.Second),
		cloudsync.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
		cloudsync.WithConnectionHandler(func(e cloudsync.ConnectionEvent) {
			if e.State == cloudsync.Resubscribed {
				reconnects()
			}
			if e.Err != nil {
				t.Logf("connection event %s: %v", e.State, e.Err)
			}
		}),
	}
}

func ourMQTTOptions(broker, sourceID, share string) *csmqtt.Options {
	tp := mqttTopics(sourceID, share)
	return &csmqtt.Options{
		BrokerHost:  broker,
		KeepAlive:   5,
		DialTimeout: 5 * time.Second,
		PubQoS:      1,
		SubQoS:      1,
		Topics:      csmqtt.Topics{SourceEvents: tp.SourceEvents, AgentEvents: tp.AgentEvents},
	}
}

// startOurSource starts our source client for side over transport tr.
func startOurSource(t *testing.T, ctx context.Context, tr cloudsync.Transport, side *sourceSide, clusters ...string) {
	t.Helper()
	codec := &ourWidgetCodec{probes: side.probes, wire: side.wire}
	c, err := cloudsync.NewSourceClient[ourWidget](ctx, cloudsync.SourceOptions{SourceID: side.id, Transport: tr, ResyncClusters: clusters},
		ourLister(side.store), nil, codec, ourOptions(t, side.autoResync, func() {
			side.reconnects.Add(1)
			if side.onReconnect != nil {
				go side.onReconnect()
			}
		})...)
	if err != nil {
		t.Fatalf("our source client: %v", err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	side.client = ourSource{c}
	if err := c.Subscribe(ctx, func(_ context.Context, _ cloudsync.ResourceAction, w ourWidget) error {
		side.onStatus(w.Widget)
		return nil
	}); err != nil {
		t.Fatalf("our source subscribe: %v", err)
	}
}

func startOurAgent(t *testing.T, ctx context.Context, tr cloudsync.Transport, sourceID string, side *agentSide) {
	t.Helper()
	codec := &ourWidgetCodec{probes: side.probes, wire: side.wire}
	c, err := cloudsync.NewAgentClient[ourWidget](ctx, cloudsync.AgentOptions{AgentID: side.id, ClusterName: side.cluster, Transport: tr, ResyncSources: []string{sourceID}},
		ourLister(side.store), nil, codec, ourOptions(t, side.autoResync, func() { side.reconnects.Add(1) })...)
	if err != nil {
		t.Fatalf("our agent client: %v", err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	side.client = ourAgent{c}
	side.run(ctx, t)
	if err := c.Subscribe(ctx, func(_ context.Context, action cloudsync.ResourceAction, w ourWidget) error {
		side.onSpec(types.ResourceAction(action), w.Widget)
		return nil
	}); err != nil {
		t.Fatalf("our agent subscribe: %v", err)
	}
}

func startOurSourceMQTT(t *testing.T, ctx context.Context, broker string, side *sourceSide, clusters ...string) {
	t.Helper()
	tr, err := csmqtt.NewSourceTransport(ourMQTTOptions(broker, side.id, side.share), token("our-src-"), side.id)
	if err != nil {
		t.Fatal(err)
	}
	startOurSource(t, ctx, tr, side, clusters...)
}

func startOurAgentMQTT(t *testing.T, ctx context.Context, broker, sourceID string, side *agentSide) {
	t.Helper()
	tr, err := csmqtt.NewAgentTransport(ourMQTTOptions(broker, sourceID, ""), side.cluster, side.id)
	if err != nil {
		t.Fatal(err)
	}
	startOurAgent(t, ctx, tr, sourceID, side)
}
