package grpc

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
)

// Config is the YAML client config, with the keys of open-cluster-management's
// GRPCConfig:
//
//	url: broker.example.com:8090
//	caFile: /etc/grpc/ca.crt          # TLS when set (or client certs)
//	clientCertFile: /etc/grpc/tls.crt # client certificate (with clientKeyFile)
//	clientKeyFile: /etc/grpc/tls.key
//	token: s3cr3t                     # bearer token (needs TLS)
//	tokenFile: /etc/grpc/token
//	keepAliveConfig:
//	  enable: true
//	  time: 30s
//	  timeout: 10s
//	  permitWithoutStream: false
//	serverHealthinessTimeout: 30s     # reconnect when no heartbeat came for this long
type Config struct {
	URL            string `json:"url" yaml:"url"`
	CAFile         string `json:"caFile,omitempty" yaml:"caFile,omitempty"`
	ClientCertFile string `json:"clientCertFile,omitempty" yaml:"clientCertFile,omitempty"`
	ClientKeyFile  string `json:"clientKeyFile,omitempty" yaml:"clientKeyFile,omitempty"`
	Token          string `json:"token,omitempty" yaml:"token,omitempty"`
	TokenFile      string `json:"tokenFile,omitempty" yaml:"tokenFile,omitempty"`
	// KeepAliveConfig are gRPC keepalive pings (off by default).
	KeepAliveConfig KeepAliveConfig `json:"keepAliveConfig,omitempty" yaml:"keepAliveConfig,omitempty"`
	// ServerHealthinessTimeout, when set, treats a Subscribe stream
	// without a heartbeat for that long as broken.
	ServerHealthinessTimeout *Duration `json:"serverHealthinessTimeout,omitempty" yaml:"serverHealthinessTimeout,omitempty"`
	// DialTimeout bounds Connect (default 30s). Not in OCM's config.
	DialTimeout *Duration `json:"dialTimeout,omitempty" yaml:"dialTimeout,omitempty"`
}

// KeepAliveConfig holds the keepalive options (OCM's keys).
type KeepAliveConfig struct {
	Enable              bool      `json:"enable,omitempty" yaml:"enable,omitempty"`
	Time                *Duration `json:"time,omitempty" yaml:"time,omitempty"`
	Timeout             *Duration `json:"timeout,omitempty" yaml:"timeout,omitempty"`
	PermitWithoutStream bool      `json:"permitWithoutStream,omitempty" yaml:"permitWithoutStream,omitempty"`
}

// Duration is a time.Duration that reads "30s" or a number of
// nanoseconds.
type Duration time.Duration

// UnmarshalYAML reads a duration string or an integer.
func (d *Duration) UnmarshalYAML(b []byte) error {
	s := strings.Trim(strings.TrimSpace(string(b)), `"'`)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		*d = Duration(n)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration %q: %w", s, err)
	}
	*d = Duration(v)
	return nil
}

// Defaults.
const (
	DefaultKeepAliveTime    = 30 * time.Second
	DefaultKeepAliveTimeout = 10 * time.Second
	DefaultDialTimeout      = 30 * time.Second
)

// LoadConfig reads a YAML config file.
func LoadConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	c, err := ParseConfig(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// ParseConfig reads a YAML config.
func ParseConfig(b []byte) (*Config, error) {
	var c Config
	if err := yaml.Unmarshal(b, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// Options are a validated Config, ready for a transport.
type Options struct {
	URL       string
	TLSConfig *tls.Config // nil: plaintext
	// Token is sent as "authorization: Bearer <token>" on every call.
	Token string
	// InsecureToken allows a token without TLS (tests, loopback).
	InsecureToken       bool
	KeepAlive           bool
	KeepAliveTime       time.Duration
	KeepAliveTimeout    time.Duration
	PermitWithoutStream bool
	// ServerHealthinessTimeout > 0 treats a stream without a heartbeat
	// for that long as broken.
	ServerHealthinessTimeout time.Duration
	DialTimeout              time.Duration
}

// Options validates the config and loads the TLS and token files. A token
// needs TLS (caFile), as in OCM.
func (c *Config) Options() (*Options, error) {
	var errs []error
	if c.URL == "" {
		errs = append(errs, errors.New("url: url is required"))
	}
	if (c.ClientCertFile == "") != (c.ClientKeyFile == "") {
		errs = append(errs, errors.New("clientCertFile, clientKeyFile: set both or neither"))
	}
	token := c.Token
	if token == "" && c.TokenFile != "" {
		b, err := os.ReadFile(c.TokenFile)
		if err != nil {
			errs = append(errs, fmt.Errorf("tokenFile: %w", err))
		}
		token = strings.TrimSpace(string(b))
	}
	if token != "" && c.CAFile == "" {
		errs = append(errs, errors.New("token: setting a token requires caFile (TLS)"))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	o := &Options{URL: c.URL, Token: token, KeepAlive: c.KeepAliveConfig.Enable,
		KeepAliveTime: DefaultKeepAliveTime, KeepAliveTimeout: DefaultKeepAliveTimeout,
		PermitWithoutStream: c.KeepAliveConfig.PermitWithoutStream, DialTimeout: DefaultDialTimeout}
	if c.KeepAliveConfig.Time != nil {
		o.KeepAliveTime = time.Duration(*c.KeepAliveConfig.Time)
	}
	if c.KeepAliveConfig.Timeout != nil {
		o.KeepAliveTimeout = time.Duration(*c.KeepAliveConfig.Timeout)
	}
	if c.ServerHealthinessTimeout != nil {
		o.ServerHealthinessTimeout = time.Duration(*c.ServerHealthinessTimeout)
	}
	if c.DialTimeout != nil && *c.DialTimeout > 0 {
		o.DialTimeout = time.Duration(*c.DialTimeout)
	}
	if c.CAFile != "" || c.ClientCertFile != "" {
		tc := &tls.Config{MinVersion: tls.VersionTLS12}
		if c.CAFile != "" {
			pem, err := os.ReadFile(c.CAFile)
			if err != nil {
				return nil, fmt.Errorf("caFile: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("caFile: %s holds no PEM certificate", c.CAFile)
			}
			tc.RootCAs = pool
		}
		if c.ClientCertFile != "" {
			cert, err := tls.LoadX509KeyPair(c.ClientCertFile, c.ClientKeyFile)
			if err != nil {
				return nil, fmt.Errorf("clientCertFile, clientKeyFile: %w", err)
			}
			tc.Certificates = []tls.Certificate{cert}
		}
		o.TLSConfig = tc
	}
	return o, nil
}
