// Package gitlab is the gitlab source: GitLab webhook deliveries, checked
// with their X-Gitlab-Token, as CloudEvents of type com.gitlab.* (the
// CloudEvents GitLab adapter).
package gitlab

import (
	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/webhook"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

// TypeName is the source type.
const TypeName = "gitlab"

// Config configures a gitlab source.
type Config struct {
	connector.Common `yaml:",inline"`
	webhook.Endpoint `yaml:",inline"`
	// Secret is the webhook's secret token, as entered on GitLab; GitLab
	// sends it as is in X-Gitlab-Token. Required.
	Secret spec.Secret `json:"secret"`
}

// Defaults implements connector.Config.
func (c *Config) Defaults() { c.FillDefaults("/hooks/gitlab") }

// Validate implements connector.Config.
func (c *Config) Validate(p spec.Problems) {
	c.Endpoint.Validate(p)
	if c.Secret == "" {
		p.AddAt("secret", "required: the secret token entered in the webhook's settings on GitLab")
	}
}

func init() {
	webhook.Register(TypeName,
		"receives GitLab webhooks (X-Gitlab-Token checked) as com.gitlab.* CloudEvents",
		newSource)
}

func newSource(name string, c *Config, deps connector.Deps, o webhook.Options) *webhook.Source {
	return webhook.NewSource(name, TypeName, &c.Endpoint, deps, newHandler(c), o)
}
