package connector

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"

	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

// TLS is the client side of TLS for connectors that dial a broker or a
// service: the `tls` option of their configs.
type TLS struct {
	// Enabled turns TLS on where the address alone does not say so (an
	// amqps:// URL does). Setting any other field enables it too.
	Enabled bool `json:"enabled,omitempty"`
	// CAFile is a PEM bundle of CAs to trust instead of the system's.
	CAFile string `json:"ca_file,omitempty"`
	// CertFile and KeyFile are a client certificate (mutual TLS).
	CertFile string `json:"cert_file,omitempty"`
	KeyFile  string `json:"key_file,omitempty"`
	// ServerName overrides the name checked in the server certificate.
	ServerName string `json:"server_name,omitempty"`
	// InsecureSkipVerify disables certificate checks. For tests only.
	InsecureSkipVerify bool `json:"insecure_skip_verify,omitempty"`
}

// On reports whether TLS is asked for.
func (c *TLS) On() bool {
	return c.Enabled || c.CAFile != "" || c.CertFile != "" || c.KeyFile != "" || c.ServerName != "" || c.InsecureSkipVerify
}

// Build returns the client configuration, or nil when TLS is off.
func (c *TLS) Build() (*tls.Config, error) {
	if !c.On() {
		return nil, nil
	}
	return c.Config()
}

// Validate reports problems under p (the path of the tls option), files
// that do not exist included; Config reads them when the connector starts.
func (c *TLS) Validate(p spec.Problems) {
	if (c.CertFile == "") != (c.KeyFile == "") {
		p.Add("cert_file and key_file go together")
	}
	for _, f := range [][2]string{{"ca_file", c.CAFile}, {"cert_file", c.CertFile}, {"key_file", c.KeyFile}} {
		if f[1] == "" {
			continue
		}
		if _, err := os.Stat(f[1]); err != nil {
			p.AddAt(f[0], "%v", err)
		}
	}
}

// Config builds the client configuration; it reads the files.
func (c *TLS) Config() (*tls.Config, error) {
	tc := &tls.Config{ServerName: c.ServerName, InsecureSkipVerify: c.InsecureSkipVerify, MinVersion: tls.VersionTLS12} //nolint:gosec // opt-in, documented as tests-only
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("tls.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls.ca_file: no PEM certificates in %s", c.CAFile)
		}
		tc.RootCAs = pool
	}
	if c.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("tls: client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// IsZero reports whether no option is set (TLS is off).
func (c *TLS) IsZero() bool { return c == nil || !c.On() }
