// Package eventgrid is the azure-eventgrid source: an Azure Event Grid
// webhook endpoint. It answers both validation handshakes (the
// SubscriptionValidationEvent of the Event Grid schema, and the
// CloudEvents OPTIONS handshake), checks an optional shared key header,
// and takes events in the Event Grid schema or the CloudEvents schema,
// one batch at a time, all or nothing.
package eventgrid

import (
	"net/http"
	"regexp"
	"strconv"

	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/webhook"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

// TypeName is the source type.
const TypeName = "azure-eventgrid"

// DefaultKeyHeader is key_header when unset.
const DefaultKeyHeader = "aeg-sas-key"

// Config configures an azure-eventgrid source.
type Config struct {
	connector.Common `yaml:",inline"`
	webhook.Endpoint `yaml:",inline"`
	// Key, when set, must arrive in KeyHeader with every delivery: add it
	// to the event subscription as a custom delivery property (a secret
	// header). Event Grid does not sign deliveries.
	Key spec.Secret `json:"key,omitempty"`
	// KeyHeader is the header that carries Key. Default aeg-sas-key.
	KeyHeader string `json:"key_header,omitempty"`
	// AllowedOrigins are granted in the CloudEvents OPTIONS handshake
	// (WebHook-Request-Origin). Default ["*"].
	AllowedOrigins []string `json:"allowed_origins,omitempty"`
	// AllowedRate is the WebHook-Allowed-Rate granted (requests per
	// minute, or "*"). Default "*".
	AllowedRate string `json:"allowed_rate,omitempty"`
}

// Defaults implements connector.Config.
func (c *Config) Defaults() {
	c.FillDefaults("/hooks/azure-eventgrid")
	if c.KeyHeader == "" {
		c.KeyHeader = DefaultKeyHeader
	}
	if len(c.AllowedOrigins) == 0 {
		c.AllowedOrigins = []string{"*"}
	}
	if c.AllowedRate == "" {
		c.AllowedRate = "*"
	}
}

var headerName = regexp.MustCompile("^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")

// Validate implements connector.Config.
func (c *Config) Validate(p spec.Problems) {
	c.Endpoint.Validate(p)
	if !headerName.MatchString(c.KeyHeader) {
		p.AddAt("key_header", "must be a header name")
	}
	if c.AllowedRate != "*" {
		if n, err := strconv.Atoi(c.AllowedRate); err != nil || n < 1 {
			p.AddAt("allowed_rate", "must be a positive number of requests per minute, or \"*\"")
		}
	}
}

func init() {
	webhook.Register(TypeName,
		"receives Azure Event Grid deliveries (Event Grid or CloudEvents schema) with both validation handshakes",
		newSource)
}

func newSource(name string, c *Config, deps connector.Deps, o webhook.Options) *webhook.Source {
	o.Methods = []string{http.MethodPost, http.MethodOptions}
	return webhook.NewSource(name, TypeName, &c.Endpoint, deps, &handler{cfg: c}, o)
}
