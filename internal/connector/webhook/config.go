package webhook

import (
	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/httpsrc"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

// Endpoint is where a webhook source listens and how much it reads. Source
// configs embed it (with `yaml:",inline"`), next to connector.Common.
type Endpoint struct {
	// Endpoint: path (default /hooks/<type>), listen, timeout,
	// read_timeout, max_connections.
	httpsrc.Endpoint `yaml:",inline"`
	// MaxBodySize limits a request body. Default 1MiB; larger bodies are
	// answered 413.
	MaxBodySize spec.ByteSize `json:"max_body_size,omitempty"`
	// ExtensionLimits (max_extensions, max_extension_size) bound the
	// extensions of each event a request makes; an event over them is
	// answered 400 too-many-extensions, and none of the request's events
	// is stored.
	connector.ExtensionLimits
}

// DefaultMaxBodySize is max_body_size when unset.
const DefaultMaxBodySize = 1 << 20

// FillDefaults sets unset fields; path is the type's default path.
func (e *Endpoint) FillDefaults(path string) {
	e.FillHTTPDefaults(path)
	if e.MaxBodySize == 0 {
		e.MaxBodySize = DefaultMaxBodySize
	}
	e.FillExtensionDefaults()
}

// Validate reports problems under p.
func (e *Endpoint) Validate(p spec.Problems) {
	e.ValidateHTTP(p)
	if e.MaxBodySize < 1024 {
		p.AddAt("max_body_size", "must be at least 1KiB")
	}
	e.ValidateExtensionLimits(p)
}
