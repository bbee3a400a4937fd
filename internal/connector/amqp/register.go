// Package amqp is the AMQP 0-9-1 connector (RabbitMQ): a source that
// consumes a queue and a target that publishes to an exchange with
// publisher confirms, speaking the CloudEvents AMQP binding (package
// amqpbinding) in binary or structured mode.
package amqp

import "github.com/eventbridge-dev/eventbridge/internal/connector"

func init() {
	connector.RegisterSource(connector.SourceType{
		Name:      "amqp",
		Doc:       "consumes CloudEvents from a RabbitMQ queue (AMQP 0-9-1), acknowledging after store",
		NewConfig: func() connector.Config { return &SourceConfig{} },
		New:       newSource,
	})
	connector.RegisterTarget(connector.TargetType{
		Name:      "amqp",
		Doc:       "publishes CloudEvents to a RabbitMQ exchange (AMQP 0-9-1) with publisher confirms",
		NewConfig: func() connector.Config { return &TargetConfig{} },
		New:       newTarget,
	})
}
