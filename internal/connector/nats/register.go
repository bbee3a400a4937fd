package nats

import "github.com/eventbridge-dev/eventbridge/internal/connector"

func init() {
	connector.RegisterSource(connector.SourceType{
		Name:      "nats",
		Doc:       "subscribes to core NATS subjects (queue group shared by replicas); answers requests once stored",
		NewConfig: func() connector.Config { return &SourceConfig{} },
		New:       newSource,
	})
	connector.RegisterTarget(connector.TargetType{
		Name:      "nats",
		Doc:       "publishes events on core NATS subjects named from their attributes (binary or structured)",
		NewConfig: func() connector.Config { return &TargetConfig{} },
		New:       newTarget,
	})
	connector.RegisterSource(connector.SourceType{
		Name:      "jetstream",
		Doc:       "consumes a NATS JetStream stream with a durable consumer; acks once stored, naks on failure",
		NewConfig: func() connector.Config { return &JetStreamSourceConfig{} },
		New:       newJetStreamSource,
	})
	connector.RegisterTarget(connector.TargetType{
		Name:      "jetstream",
		Doc:       "publishes events into a NATS JetStream stream, waiting for its ack, deduplicated by (source, id)",
		NewConfig: func() connector.Config { return &JetStreamTargetConfig{} },
		New:       newJetStreamTarget,
	})
}
