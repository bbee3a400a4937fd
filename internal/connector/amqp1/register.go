// Package amqp1 is the AMQP 1.0 connector: a source that receives from an
// address and a target that sends to one, speaking the CloudEvents AMQP
// binding (package amqpbinding) with native AMQP types for booleans,
// integers, binary and timestamps.
package amqp1

import "github.com/eventbridge-dev/eventbridge/internal/connector"

func init() {
	connector.RegisterSource(connector.SourceType{
		Name:      "amqp1",
		Doc:       "receives CloudEvents from an AMQP 1.0 address, accepting after store",
		NewConfig: func() connector.Config { return &SourceConfig{} },
		New:       newSource,
	})
	connector.RegisterTarget(connector.TargetType{
		Name:      "amqp1",
		Doc:       "sends CloudEvents to an AMQP 1.0 address and waits for the disposition",
		NewConfig: func() connector.Config { return &TargetConfig{} },
		New:       newTarget,
	})
}
