// Package github is the github source: GitHub webhook deliveries, checked
// with their X-Hub-Signature-256 HMAC, as CloudEvents of type
// com.github.<event>[.<action>] (the CloudEvents GitHub adapter).
package github

import (
	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/webhook"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

// TypeName is the source type.
const TypeName = "github"

// Config configures a github source.
type Config struct {
	connector.Common `yaml:",inline"`
	webhook.Endpoint `yaml:",inline"`
	// Secret is the webhook's secret, as entered on GitHub. Required.
	Secret spec.Secret `json:"secret"`
}

// Defaults implements connector.Config.
func (c *Config) Defaults() { c.FillDefaults("/hooks/github") }

// Validate implements connector.Config.
func (c *Config) Validate(p spec.Problems) {
	c.Endpoint.Validate(p)
	if c.Secret == "" {
		p.AddAt("secret", "required: the secret entered in the webhook's settings on GitHub")
	}
}

func init() {
	webhook.Register(TypeName,
		"receives GitHub webhooks (X-Hub-Signature-256 checked) as com.github.* CloudEvents",
		newSource)
}

func newSource(name string, c *Config, deps connector.Deps, o webhook.Options) *webhook.Source {
	return webhook.NewSource(name, TypeName, &c.Endpoint, deps, newHandler(c), o)
}
