package mqtt

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
)

// Defaults of the driver config (OCM's).
const (
	DefaultKeepAlive   = 60 // seconds
	DefaultDialTimeout = 60 * time.Second
	DefaultQoS         = 1
)

// Config is the YAML driver config, with OCM's MQTTConfig keys:
//
//	brokerHost: broker.example.com:1883
//	username: maestro
//	password: secret
//	caFile: /etc/mqtt/ca.crt          # TLS when set
//	clientCertFile: /etc/mqtt/tls.crt # client certificate (with clientKeyFile)
//	clientKeyFile: /etc/mqtt/tls.key
//	# or inline: caData, clientCertData, clientKeyData (base64 PEM)
//	keepAlive: 60                     # seconds
//	dialTimeout: 60s
//	pubQoS: 1
//	subQoS: 1
//	topics:
//	  sourceEvents: sources/maestro/consumers/+/sourceevents
//	  agentEvents: $share/statussubscribers/sources/maestro/consumers/+/agentevents
//	  sourceBroadcast: sources/+/sourcebroadcast
//	  agentBroadcast: clusters/+/agentbroadcast
//
// "broker" is accepted as a synonym of brokerHost.
type Config struct {
	BrokerHost string `json:"brokerHost" yaml:"brokerHost"`
	Broker     string `json:"broker,omitempty" yaml:"broker,omitempty"`
	Username   string `json:"username,omitempty" yaml:"username,omitempty"`
	Password   string `json:"password,omitempty" yaml:"password,omitempty"`
	// CAFile verifies the broker; ClientCertFile and ClientKeyFile
	// authenticate the client. Any of them turns TLS on.
	CAFile         string `json:"caFile,omitempty" yaml:"caFile,omitempty"`
	ClientCertFile string `json:"clientCertFile,omitempty" yaml:"clientCertFile,omitempty"`
	ClientKeyFile  string `json:"clientKeyFile,omitempty" yaml:"clientKeyFile,omitempty"`
	// CAData, ClientCertData and ClientKeyData are the same PEM inline,
	// base64-encoded; a file of the same kind wins.
	CAData         Base64 `json:"caData,omitempty" yaml:"caData,omitempty"`
	ClientCertData Base64 `json:"clientCertData,omitempty" yaml:"clientCertData,omitempty"`
	ClientKeyData  Base64 `json:"clientKeyData,omitempty" yaml:"clientKeyData,omitempty"`
	// KeepAlive in seconds (default 60).
	KeepAlive *uint16 `json:"keepAlive,omitempty" yaml:"keepAlive,omitempty"`
	// DialTimeout of the TCP (and TLS) connection (default 60s): a Go
	// duration string or a number of nanoseconds.
	DialTimeout *Duration `json:"dialTimeout,omitempty" yaml:"dialTimeout,omitempty"`
	PubQoS      *int      `json:"pubQoS,omitempty" yaml:"pubQoS,omitempty"`
	SubQoS      *int      `json:"subQoS,omitempty" yaml:"subQoS,omitempty"`
	Topics      *Topics   `json:"topics,omitempty" yaml:"topics,omitempty"`
}

// Duration is a time.Duration that reads "60s" or a number of
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

// Base64 is bytes written as a base64 string.
type Base64 []byte

// UnmarshalYAML decodes a base64 string.
func (b *Base64) UnmarshalYAML(data []byte) error {
	s := strings.Trim(strings.TrimSpace(string(data)), `"'`)
	v, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return fmt.Errorf("base64: %w", err)
	}
	*b = v
	return nil
}

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
	BrokerHost  string
	Username    string
	Password    string
	TLSConfig   *tls.Config // nil: plain TCP
	KeepAlive   uint16
	DialTimeout time.Duration
	PubQoS      byte
	SubQoS      byte
	Topics      Topics
}

func qos(p *int, field string) (byte, error) {
	if p == nil {
		return DefaultQoS, nil
	}
	if *p < 0 || *p > 2 {
		return 0, fmt.Errorf("%s: QoS %d is not 0, 1 or 2", field, *p)
	}
	return byte(*p), nil
}

// Options validates the config (brokerHost and the topics are required,
// the topics must match OCM's patterns) and loads the TLS files.
func (c *Config) Options() (*Options, error) {
	host := c.BrokerHost
	if host == "" {
		host = c.Broker
	}
	var errs []error
	if host == "" {
		errs = append(errs, errors.New("brokerHost: brokerHost is required"))
	}
	if err := c.Topics.Validate(); err != nil {
		errs = append(errs, err)
	}
	pub, err := qos(c.PubQoS, "pubQoS")
	if err != nil {
		errs = append(errs, err)
	}
	sub, err := qos(c.SubQoS, "subQoS")
	if err != nil {
		errs = append(errs, err)
	}
	if (c.ClientCertFile == "" && len(c.ClientCertData) == 0) != (c.ClientKeyFile == "" && len(c.ClientKeyData) == 0) {
		errs = append(errs, errors.New("clientCertFile, clientKeyFile: set both or neither"))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	o := &Options{
		BrokerHost: host, Username: c.Username, Password: c.Password,
		KeepAlive: DefaultKeepAlive, DialTimeout: DefaultDialTimeout,
		PubQoS: pub, SubQoS: sub, Topics: *c.Topics,
	}
	if c.KeepAlive != nil {
		o.KeepAlive = *c.KeepAlive
	}
	if c.DialTimeout != nil && *c.DialTimeout > 0 {
		o.DialTimeout = time.Duration(*c.DialTimeout)
	}
	ca, err := fileOr(c.CAFile, c.CAData, "caFile")
	if err != nil {
		return nil, err
	}
	certPEM, err := fileOr(c.ClientCertFile, c.ClientCertData, "clientCertFile")
	if err != nil {
		return nil, err
	}
	keyPEM, err := fileOr(c.ClientKeyFile, c.ClientKeyData, "clientKeyFile")
	if err != nil {
		return nil, err
	}
	if len(ca) > 0 || len(certPEM) > 0 {
		tc := &tls.Config{MinVersion: tls.VersionTLS12}
		if len(ca) > 0 {
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(ca) {
				return nil, errors.New("caFile: no PEM certificate in the CA")
			}
			tc.RootCAs = pool
		}
		if len(certPEM) > 0 {
			cert, err := tls.X509KeyPair(certPEM, keyPEM)
			if err != nil {
				return nil, fmt.Errorf("clientCertFile, clientKeyFile: %w", err)
			}
			tc.Certificates = []tls.Certificate{cert}
		}
		tc.ServerName = host
		if h, _, err := net.SplitHostPort(host); err == nil {
			tc.ServerName = h
		}
		o.TLSConfig = tc
	}
	return o, nil
}

// fileOr reads path, or returns data when path is "".
func fileOr(path string, data []byte, field string) ([]byte, error) {
	if path == "" {
		return data, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	return b, nil
}
