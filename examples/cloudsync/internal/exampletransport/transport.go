// Package exampletransport builds the transport the example programs ask
// for on their command line.
package exampletransport

import (
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/eventbridge-dev/eventbridge/pkg/cloudsync"
	"github.com/eventbridge-dev/eventbridge/pkg/cloudsync/grpc"
	"github.com/eventbridge-dev/eventbridge/pkg/cloudsync/kafka"
	"github.com/eventbridge-dev/eventbridge/pkg/cloudsync/mqtt"
	"github.com/eventbridge-dev/eventbridge/pkg/cloudsync/natsjs"
)

// DataType is the data type of the example's objects.
var DataType = cloudsync.DataType{Group: "io.eventbridge.example", Version: "v1", Resource: "widgets"}

// Flags are the transport flags both programs take.
type Flags struct {
	Transport string
	Broker    string
	Prefix    string
}

// Register adds -transport, -broker and -prefix to fs.
func (f *Flags) Register(fs *flag.FlagSet) {
	fs.StringVar(&f.Transport, "transport", "mqtt", "mqtt (an MQTT v5 broker such as Mosquitto), grpc (eventbridge's gRPC broker), nats, jetstream or kafka")
	fs.StringVar(&f.Broker, "broker", "", "broker address (default per transport: mqtt 127.0.0.1:1883, grpc 127.0.0.1:8090, nats/jetstream nats://127.0.0.1:4222, kafka 127.0.0.1:9092)")
	fs.StringVar(&f.Prefix, "prefix", "cloudsync-example", "subject/topic prefix (nats, jetstream, kafka)")
}

func (f *Flags) broker(def string) string {
	if f.Broker != "" {
		return f.Broker
	}
	return def
}

// mqttOptions uses the OCM topic layout for one source with any cluster.
func (f *Flags) mqttOptions(sourceID string) *mqtt.Options {
	return &mqtt.Options{
		BrokerHost:  f.broker("127.0.0.1:1883"),
		KeepAlive:   mqtt.DefaultKeepAlive,
		DialTimeout: 10 * time.Second,
		PubQoS:      1,
		SubQoS:      1,
		Topics: mqtt.Topics{
			SourceEvents:    "sources/" + sourceID + "/clusters/+/sourceevents",
			AgentEvents:     "sources/" + sourceID + "/clusters/+/agentevents",
			SourceBroadcast: "sources/+/sourcebroadcast",
			AgentBroadcast:  "clusters/+/agentbroadcast",
		},
	}
}

func (f *Flags) grpcOptions() *grpc.Options {
	return &grpc.Options{URL: f.broker("127.0.0.1:8090"), DialTimeout: 10 * time.Second, ServerHealthinessTimeout: 30 * time.Second}
}

func (f *Flags) natsOptions(jetstream bool, sourceID string) natsjs.Options {
	o := natsjs.Options{URL: f.broker("nats://127.0.0.1:4222"), Prefix: f.Prefix, SourceID: sourceID}
	if jetstream {
		o.JetStream = &natsjs.JetStreamOptions{}
	}
	return o
}

func (f *Flags) kafkaOptions(sourceID string) kafka.Options {
	return kafka.Options{Brokers: strings.Split(f.broker("127.0.0.1:9092"), ","), Prefix: f.Prefix, SourceID: sourceID}
}

// Source returns the transport of source sourceID.
func (f *Flags) Source(sourceID string) (cloudsync.Transport, error) {
	switch f.Transport {
	case "mqtt":
		return mqtt.NewSourceTransport(f.mqttOptions(sourceID), "", sourceID)
	case "grpc":
		return grpc.NewSourceTransport(f.grpcOptions(), sourceID, DataType), nil
	case "nats", "jetstream":
		return natsjs.NewSource(sourceID, f.natsOptions(f.Transport == "jetstream", ""))
	case "kafka":
		return kafka.NewSource(sourceID, f.kafkaOptions(""))
	}
	return nil, fmt.Errorf("unknown transport %q: use mqtt, grpc, nats, jetstream or kafka", f.Transport)
}

// Agent returns the transport of agent agentID on cluster, talking to
// source sourceID.
func (f *Flags) Agent(agentID, cluster, sourceID string) (cloudsync.Transport, error) {
	switch f.Transport {
	case "mqtt":
		return mqtt.NewAgentTransport(f.mqttOptions(sourceID), cluster, agentID)
	case "grpc":
		return grpc.NewAgentTransport(f.grpcOptions(), cluster, DataType), nil
	case "nats", "jetstream":
		return natsjs.NewAgent(agentID, cluster, f.natsOptions(f.Transport == "jetstream", sourceID))
	case "kafka":
		return kafka.NewAgent(agentID, cluster, f.kafkaOptions(sourceID))
	}
	return nil, fmt.Errorf("unknown transport %q: use mqtt, grpc, nats, jetstream or kafka", f.Transport)
}
