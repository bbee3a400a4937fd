package postgres

import "github.com/eventbridge-dev/eventbridge/internal/connector"

func init() {
	connector.RegisterSource(connector.SourceType{
		Name:      "postgres",
		Doc:       "reads CloudEvents from a PostgreSQL outbox table (rows removed after store) or a LISTEN channel",
		NewConfig: func() connector.Config { return &SourceConfig{} },
		New:       newSource,
	})
	connector.RegisterTarget(connector.TargetType{
		Name:      "postgres",
		Doc:       "inserts events into a PostgreSQL table (idempotent on source and id) or sends them with NOTIFY",
		NewConfig: func() connector.Config { return &TargetConfig{} },
		New:       newTarget,
	})
}
