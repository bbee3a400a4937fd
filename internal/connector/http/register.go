package http

import "github.com/eventbridge-dev/eventbridge/internal/connector"

func init() {
	connector.RegisterSource(connector.SourceType{
		Name:      "http",
		Doc:       "receives CloudEvents over HTTP (binary, structured, batch), with the webhook handshake",
		NewConfig: func() connector.Config { return &SourceConfig{} },
		New:       newSource,
	})
	connector.RegisterTarget(connector.TargetType{
		Name:      "http",
		Doc:       "delivers events with HTTP requests (binary, structured or data mode)",
		NewConfig: func() connector.Config { return &TargetConfig{} },
		New:       newTarget,
	})
}
