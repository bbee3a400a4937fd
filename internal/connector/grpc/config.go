package grpc

import (
	"net"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

// SourceConfig configures a grpc source: a CloudEventService server.
type SourceConfig struct {
	connector.Common `yaml:",inline"`
	// Listen is the server's address (host:port). Required.
	Listen string `json:"listen"`
	// TLS serves over TLS when cert_file and key_file are set.
	TLS ServerTLS `json:"tls,omitempty"`
	// Token, when set, is required of clients as the "authorization:
	// Bearer <token>" metadata.
	Token spec.Secret `json:"token,omitempty"`
	// MaxMessageSize limits one request. Default 4MiB.
	MaxMessageSize spec.ByteSize `json:"max_message_size,omitempty"`
	// Timeout bounds storing one published event. Default 10s.
	Timeout spec.Duration `json:"timeout,omitempty"`
	// SubscribeBuffer is how many events a Subscribe stream may fall
	// behind before it misses events. Default 1000.
	SubscribeBuffer int `json:"subscribe_buffer,omitempty"`
	// DisableSubscribe refuses Subscribe calls (Unimplemented).
	DisableSubscribe bool `json:"disable_subscribe,omitempty"`
	// Reflection serves gRPC server reflection, so that tools such as
	// grpcurl need no .proto files.
	Reflection bool `json:"reflection,omitempty"`
	// ExtensionLimits (max_extensions, max_extension_size) bound the
	// extensions of a published event; one over them is refused
	// InvalidArgument.
	connector.ExtensionLimits
	// Broker makes the source an open-cluster-management CloudEvents
	// broker (see BrokerConfig).
	Broker BrokerConfig `json:"broker,omitempty"`
}

// ServerTLS is the server side of TLS.
type ServerTLS struct {
	// CertFile and KeyFile are the server certificate and key.
	CertFile string `json:"cert_file,omitempty"`
	KeyFile  string `json:"key_file,omitempty"`
	// ClientCAFile, when set, requires client certificates signed by
	// these CAs (mutual TLS).
	ClientCAFile string `json:"client_ca_file,omitempty"`
}

// Defaults implements connector.Config.
func (c *SourceConfig) Defaults() {
	if c.MaxMessageSize == 0 {
		c.MaxMessageSize = 4 << 20
	}
	if c.Timeout == 0 {
		c.Timeout = spec.Duration(10 * time.Second)
	}
	if c.SubscribeBuffer == 0 {
		c.SubscribeBuffer = 1000
	}
	c.FillExtensionDefaults()
	if c.Broker.Enabled {
		c.Broker.defaults()
	}
}

// Validate implements connector.Config.
func (c *SourceConfig) Validate(p spec.Problems) {
	if c.Listen == "" {
		p.AddAt("listen", "required: the address to serve on (host:port)")
	} else if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		p.AddAt("listen", "must be host:port: %v", err)
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		p.AddAt("tls", "cert_file and key_file go together")
	}
	if c.TLS.ClientCAFile != "" && c.TLS.CertFile == "" {
		p.AddAt("tls.client_ca_file", "needs cert_file and key_file: mutual TLS is TLS first")
	}
	if c.MaxMessageSize < 1024 {
		p.AddAt("max_message_size", "must be at least 1KiB")
	}
	if c.Timeout.D() <= 0 {
		p.AddAt("timeout", "must be positive")
	}
	if c.SubscribeBuffer < 1 {
		p.AddAt("subscribe_buffer", "must be at least 1")
	}
	c.ValidateExtensionLimits(p)
	if c.Broker.Enabled {
		if c.DisableSubscribe {
			p.AddAt("broker", "needs Subscribe: unset disable_subscribe")
		}
		c.Broker.validate(p.At("broker"))
	}
}

// TargetConfig configures a grpc target: a client of a remote
// CloudEventService.
type TargetConfig struct {
	connector.Common `yaml:",inline"`
	// Address is the server: host:port, or any gRPC target name
	// (dns:///host:port). Required.
	Address string `json:"address"`
	// TLS is used when any of its fields is set; otherwise the
	// connection is plaintext.
	TLS connector.TLS `json:"tls,omitempty"`
	// Token is sent as the "authorization: Bearer <token>" metadata.
	Token spec.Secret `json:"token,omitempty"`
	// MaxMessageSize limits one request. Default 4MiB.
	MaxMessageSize spec.ByteSize `json:"max_message_size,omitempty"`
	// Timeout bounds one Publish call. Default 10s.
	Timeout spec.Duration `json:"timeout,omitempty"`
}

// Defaults implements connector.Config.
func (c *TargetConfig) Defaults() {
	if c.MaxMessageSize == 0 {
		c.MaxMessageSize = 4 << 20
	}
	if c.Timeout == 0 {
		c.Timeout = spec.Duration(10 * time.Second)
	}
}

// Validate implements connector.Config.
func (c *TargetConfig) Validate(p spec.Problems) {
	if c.Address == "" {
		p.AddAt("address", "required: the server's host:port")
	}
	c.TLS.Validate(p.At("tls"))
	if c.MaxMessageSize < 1024 {
		p.AddAt("max_message_size", "must be at least 1KiB")
	}
	if c.Timeout.D() <= 0 {
		p.AddAt("timeout", "must be positive")
	}
}

// OutboundAddresses implements connector.Outbound.
func (c *TargetConfig) OutboundAddresses() []connector.Address {
	return []connector.Address{{Field: "address", Value: c.Address}}
}

var (
	_ connector.Outbound = (*TargetConfig)(nil)
	_ connector.Config   = (*SourceConfig)(nil)
	_ connector.Config   = (*TargetConfig)(nil)
)
