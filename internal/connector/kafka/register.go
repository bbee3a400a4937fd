package kafka

import "github.com/eventbridge-dev/eventbridge/internal/connector"

func init() {
	connector.RegisterSource(connector.SourceType{
		Name:      "kafka",
		Doc:       "reads CloudEvents from Kafka topics in a consumer group (commit after store)",
		NewConfig: func() connector.Config { return &SourceConfig{} },
		New:       newSource,
	})
	connector.RegisterTarget(connector.TargetType{
		Name:      "kafka",
		Doc:       "produces events to a Kafka topic (idempotent, acks=all; binary or structured)",
		NewConfig: func() connector.Config { return &TargetConfig{} },
		New:       newTarget,
	})
}
