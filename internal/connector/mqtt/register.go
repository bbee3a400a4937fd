package mqtt

import "github.com/eventbridge-dev/eventbridge/internal/connector"

func init() {
	connector.RegisterSource(connector.SourceType{
		Name:      "mqtt",
		Doc:       "subscribes to MQTT 5 or 3.1.1 topics (wildcards, shared subscriptions); acknowledges after the event is stored",
		NewConfig: func() connector.Config { return &SourceConfig{} },
		New:       newSource,
	})
	connector.RegisterTarget(connector.TargetType{
		Name:      "mqtt",
		Doc:       "publishes events to MQTT 5 (binary or structured) or 3.1.1 (structured) topics named from their attributes",
		NewConfig: func() connector.Config { return &TargetConfig{} },
		New:       newTarget,
	})
}
