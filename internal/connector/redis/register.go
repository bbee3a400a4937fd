package redis

import "github.com/eventbridge-dev/eventbridge/internal/connector"

func init() {
	connector.RegisterSource(connector.SourceType{
		Name:      "redis",
		Doc:       "reads CloudEvents from a Redis stream (consumer group, XACK after store) or pub/sub channel",
		NewConfig: func() connector.Config { return &SourceConfig{} },
		New:       newSource,
	})
	connector.RegisterTarget(connector.TargetType{
		Name:      "redis",
		Doc:       "appends events to a Redis stream (XADD) or publishes them to a channel",
		NewConfig: func() connector.Config { return &TargetConfig{} },
		New:       newTarget,
	})
}
