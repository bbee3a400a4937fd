package interop

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"open-cluster-management.io/sdk-go/pkg/cloudevents/generic"
	"open-cluster-management.io/sdk-go/pkg/cloudevents/generic/options/mqtt"
	"open-cluster-management.io/sdk-go/pkg/cloudevents/generic/types"
)

// OCM's generic clients (open-cluster-management.io/sdk-go v1.1.0) as the
// scenarios use them. In v1.1.0 the clients do not resync by themselves:
// the application reads ReconnectedChan and calls Resync, as OCM's
// controllers do; the helpers below do the same.

// mqttTopics is the OCM topic layout of one test: its own source id keeps
// tests apart on the shared broker.
// share, when set, makes the agent events topic a shared subscription
// (sources only: one cannot publish to a $share topic).
func mqttTopics(sourceID, share string) types.Topics {
	t := types.Topics{
		SourceEvents: "sources/" + sourceID + "/consumers/+/sourceevents",
		AgentEvents:  "sources/" + sourceID + "/consumers/+/agentevents",
	}
	if share != "" {
		t.AgentEvents = "$share/" + share + "/" + t.AgentEvents
	}
	return t
}

func ocmMQTTOptions(broker, sourceID, share string) *mqtt.MQTTOptions {
	return &mqtt.MQTTOptions{
		Topics:    mqttTopics(sourceID, share),
		KeepAlive: 5,
		PubQoS:    1,
		SubQoS:    1,
		Dialer:    &mqtt.MQTTDialer{BrokerHost: broker, Timeout: 5 * time.Second},
	}
}

type ocmSource struct {
	c *generic.CloudEventSourceClient[*Widget]
}

func (o ocmSource) publishSpec(ctx context.Context, action types.EventAction, w *Widget) error {
	return o.c.Publish(ctx, types.CloudEventsType{CloudEventsDataType: widgetDataType, SubResource: types.SubResourceSpec, Action: action}, w)
}

func (o ocmSource) resyncStatus(ctx context.Context, cluster string) error {
	return o.c.Resync(ctx, cluster)
}

type ocmAgent struct {
	c *generic.CloudEventAgentClient[*Widget]
}

func (o ocmAgent) publishStatus(ctx context.Context, action types.EventAction, w *Widget) error {
	return o.c.Publish(ctx, types.CloudEventsType{CloudEventsDataType: widgetDataType, SubResource: types.SubResourceStatus, Action: action}, w)
}

func (o ocmAgent) resyncSpec(ctx context.Context, source string) error {
	return o.c.Resync(ctx, source)
}

// startOCMSourceMQTT starts an OCM source client for side over MQTT; on
// every reconnect signal it asks the clusters for their statuses.
func startOCMSourceMQTT(t *testing.T, ctx context.Context, broker string, side *sourceSide, clusters ...string) {
	t.Helper()
	opts := mqtt.NewSourceOptions(ocmMQTTOptions(broker, side.id, side.share), token("ocm-src-"), side.id)
	codec := &ocmWidgetCodec{probes: side.probes, wire: side.wire}
	c, err := generic.NewCloudEventSourceClient[*Widget](ctx, opts, side.store, ocmStatusHash, codec)
	if err != nil {
		t.Fatalf("OCM source client: %v", err)
	}
	side.client = ocmSource{c}
	c.Subscribe(ctx, func(action types.ResourceAction, w *Widget) error {
		side.onStatus(w)
		return nil
	})
	onOCMReconnect(ctx, c.ReconnectedChan(), &side.reconnects, func() {
		for _, cl := range clusters {
			if err := c.Resync(ctx, cl); err != nil {
				t.Logf("OCM source: resync %s after reconnect: %v", cl, err)
			}
		}
	})
}

// startOCMAgentMQTT starts an OCM agent client for side over MQTT; on
// every reconnect signal it asks the source for newer specs.
func startOCMAgentMQTT(t *testing.T, ctx context.Context, broker, sourceID string, side *agentSide) {
	t.Helper()
	opts := mqtt.NewAgentOptions(ocmMQTTOptions(broker, sourceID, ""), side.cluster, side.id)
	codec := &ocmWidgetCodec{probes: side.probes, wire: side.wire}
	c, err := generic.NewCloudEventAgentClient[*Widget](ctx, opts, side.store, ocmStatusHash, codec)
	if err != nil {
		t.Fatalf("OCM agent client: %v", err)
	}
	side.client = ocmAgent{c}
	c.Subscribe(ctx, func(action types.ResourceAction, w *Widget) error {
		side.onSpec(action, w)
		return nil
	})
	side.run(ctx, t)
	onOCMReconnect(ctx, c.ReconnectedChan(), &side.reconnects, func() {
		if err := c.Resync(ctx, sourceID); err != nil {
			t.Logf("OCM agent: resync after reconnect: %v", err)
		}
	})
}

// onOCMReconnect reads an OCM client's ReconnectedChan (unbuffered: the
// client blocks until it is read), counts the signals and runs act, the
// application's resync, once the connection settled: 1 s without another
// signal, and once more 3 s later. OCM's v1.1.0 clients leave the resync
// to the application, and with MQTT and CleanStart a request sent while
// the peer is still reconnecting is lost, so an OCM application repeats
// it (ours repeats it by itself when the peer's own resync request
// arrives). Waiting for the connection to settle also keeps the test clear
// of a data race in OCM's baseClient, which swaps its CloudEvents client
// on a reconnect while a concurrent Publish reads it.
func onOCMReconnect(ctx context.Context, ch <-chan struct{}, count *atomic.Int64, act func()) {
	signals := make(chan struct{}, 1)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-ch:
				count.Add(1)
				select {
				case signals <- struct{}{}:
				default:
				}
			}
		}
	}()
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-signals:
			}
		settle:
			for {
				select {
				case <-ctx.Done():
					return
				case <-signals:
				case <-time.After(time.Second):
					break settle
				}
			}
			act()
			select {
			case <-ctx.Done():
				return
			case <-signals:
				signals <- struct{}{} // start over: it reconnected again
				continue
			case <-time.After(3 * time.Second):
				act()
			}
		}
	}()
}
