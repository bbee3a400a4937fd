package grpc

import "github.com/eventbridge-dev/eventbridge/internal/connector"

func init() {
	connector.RegisterSource(connector.SourceType{
		Name:      "grpc",
		Doc:       "serves the CloudEventService over gRPC: Publish stores an event, Subscribe streams what the source stores; broker mode serves open-cluster-management sources and agents",
		NewConfig: func() connector.Config { return &SourceConfig{} },
		New:       newSource,
	})
	connector.RegisterTarget(connector.TargetType{
		Name:      "grpc",
		Doc:       "publishes events to a remote CloudEventService over gRPC (protobuf format)",
		NewConfig: func() connector.Config { return &TargetConfig{} },
		New:       newTarget,
	})
}
