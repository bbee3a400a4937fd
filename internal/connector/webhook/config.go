package webhook

import (
	"net"
	"strings"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/httplimit"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

// Endpoint is where a webhook source listens and how much it reads. Source
// configs embed it (with `yaml:",inline"`), next to connector.Common.
type Endpoint struct {
	// Path is where the source is mounted on the shared HTTP server (or
	// on its own listener). Default /hooks/<type>.
	Path string `json:"path,omitempty"`
	// Listen gives the source its own listener (host:port) instead of the
	// shared server.
	Listen string `json:"listen,omitempty"`
	// MaxBodySize limits a request body. Default 1MiB; larger bodies are
	// answered 413.
	MaxBodySize spec.ByteSize `json:"max_body_size,omitempty"`
	// Timeout bounds storing one request's events. Default 10s.
	Timeout spec.Duration `json:"timeout,omitempty"`
	// ReadTimeout bounds reading one request's body; a slower client is
	// answered 408 and cut. Default 30s.
	ReadTimeout spec.Duration `json:"read_timeout,omitempty"`
	// MaxConnections is how many requests the source serves at once;
	// beyond it, 503 with Retry-After. Default 256.
	MaxConnections int `json:"max_connections,omitempty"`
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
	if e.Path == "" {
		e.Path = path
	}
	if e.MaxBodySize == 0 {
		e.MaxBodySize = DefaultMaxBodySize
	}
	if e.Timeout == 0 {
		e.Timeout = spec.Duration(10 * time.Second)
	}
	if e.ReadTimeout == 0 {
		e.ReadTimeout = spec.Duration(httplimit.DefaultReadTimeout)
	}
	if e.MaxConnections == 0 {
		e.MaxConnections = httplimit.DefaultMaxConnections
	}
	e.FillExtensionDefaults()
}

// Validate reports problems under p.
func (e *Endpoint) Validate(p spec.Problems) {
	if !strings.HasPrefix(e.Path, "/") {
		p.AddAt("path", "must start with /")
	}
	if strings.HasPrefix(e.Path, "/v1/") || e.Path == "/v1" || e.Path == "/metrics" || e.Path == "/healthz" || e.Path == "/readyz" {
		p.AddAt("path", "%s is reserved for the bridge's own API", e.Path)
	}
	if e.Listen != "" {
		if _, _, err := net.SplitHostPort(e.Listen); err != nil {
			p.AddAt("listen", "must be host:port: %v", err)
		}
	}
	if e.MaxBodySize < 1024 {
		p.AddAt("max_body_size", "must be at least 1KiB")
	}
	if e.Timeout.D() <= 0 {
		p.AddAt("timeout", "must be positive")
	}
	if e.ReadTimeout.D() <= 0 {
		p.AddAt("read_timeout", "must be positive")
	}
	if e.MaxConnections < 1 {
		p.AddAt("max_connections", "must be at least 1")
	}
	e.ValidateExtensionLimits(p)
}

// MountPath is where the source lives on the shared server, for the
// duplicate-path check of the config ("" with its own listener).
func (e *Endpoint) MountPath() string {
	if e.Listen != "" {
		return ""
	}
	return e.Path
}
