package mqtt

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

// Version is the MQTT protocol version: "5" or "3.1.1". In config files it
// may be written as the number 5.
type Version string

// The versions.
const (
	V5   Version = "5"
	V311 Version = "3.1.1"
)

// UnmarshalJSON accepts a string or a number.
func (v *Version) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("version: must be 5 or \"3.1.1\"")
		}
		s = n.String()
	}
	*v = Version(s)
	return nil
}

// ConnConfig is how a source or target reaches the broker.
type ConnConfig struct {
	// URL is the broker: mqtt://host:1883 (also tcp://), mqtts://host:8883
	// (also ssl://, tls://), ws:// or wss://. Several, comma-separated, are
	// tried in turn.
	URL string `json:"url"`
	// Version is "5" (default) or "3.1.1".
	Version Version `json:"version,omitempty"`
	// ClientID identifies the session. Default
	// "eventbridge-<host>-<source|target>-<name>-<random>": unique to each
	// running source or target, so that two bridges on one host (or one
	// host name) never take each other's id. A session that outlives a
	// restart needs a configured ClientID, unique to one bridge.
	ClientID string `json:"client_id,omitempty"`
	// Username and Password authenticate the client.
	Username string      `json:"username,omitempty"`
	Password spec.Secret `json:"password,omitempty"`
	// TLS configures mqtts:// and wss:// URLs.
	TLS connector.TLS `json:"tls,omitzero"`
	// KeepAlive is the MQTT keep-alive interval. Default 30s.
	KeepAlive spec.Duration `json:"keepalive,omitempty"`
	// ConnectTimeout bounds one connection attempt. Default 10s.
	ConnectTimeout spec.Duration `json:"connect_timeout,omitempty"`
	// ReconnectMax caps the backoff between connection attempts (which
	// starts at 100ms and doubles). Default 30s.
	ReconnectMax spec.Duration `json:"reconnect_max,omitempty"`
}

func (c *ConnConfig) defaults() {
	if c.Version == "" {
		c.Version = V5
	}
	if c.KeepAlive == 0 {
		c.KeepAlive = spec.Duration(30 * time.Second)
	}
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = spec.Duration(10 * time.Second)
	}
	if c.ReconnectMax == 0 {
		c.ReconnectMax = spec.Duration(30 * time.Second)
	}
}

func (c *ConnConfig) validate(p spec.Problems) {
	if c.URL == "" {
		p.AddAt("url", "required: the broker, such as mqtt://127.0.0.1:1883")
	}
	for _, u := range c.urls() {
		pu, err := url.Parse(u)
		switch {
		case err != nil:
			p.AddAt("url", "not a URL: %v", spec.URLParseError(err))
		case pu.User != nil:
			spec.CheckUserinfo(p.At("url"), pu, "username and password")
		case !validScheme(pu.Scheme):
			p.AddAt("url", "%q: the scheme must be mqtt, tcp, mqtts, ssl, tls, ws or wss", u)
		case pu.Host == "":
			p.AddAt("url", "%q: must name a host", u)
		}
	}
	if c.Version != V5 && c.Version != V311 {
		p.AddAt("version", "must be 5 or \"3.1.1\", not %q", c.Version)
	}
	if c.Password != "" && c.Username == "" {
		p.AddAt("password", "needs a username")
	}
	c.TLS.Validate(p.At("tls"))
	if c.KeepAlive.D() < time.Second || c.KeepAlive.D() > 65535*time.Second {
		p.AddAt("keepalive", "must be between 1s and 18h12m15s")
	}
	if c.ConnectTimeout.D() <= 0 {
		p.AddAt("connect_timeout", "must be positive")
	}
	if c.ReconnectMax.D() < 100*time.Millisecond {
		p.AddAt("reconnect_max", "must be at least 100ms")
	}
}

func (c *ConnConfig) urls() []string {
	var out []string
	for _, u := range strings.Split(c.URL, ",") {
		if u = strings.TrimSpace(u); u != "" {
			out = append(out, u)
		}
	}
	return out
}

func validScheme(s string) bool {
	switch s {
	case "mqtt", "tcp", "mqtts", "ssl", "tls", "ws", "wss":
		return true
	}
	return false
}

// clientID is the configured client id, or a new one,
// "eventbridge-<host>-<kind>-<name>-<random>": a broker keeps one
// connection per client id, and two clients with one id knock each other
// off, so a default must not be shared by two bridges, even on one host.
func (c *ConnConfig) clientID(kind, name string) string {
	if c.ClientID != "" {
		return c.ClientID
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "eventbridge-" + host + "-" + kind + "-" + name + "-" + hex.EncodeToString(b[:])
}

// validTopic checks a topic name to publish to (no wildcards).
func validTopic(t string) error {
	switch {
	case t == "":
		return fmt.Errorf("empty topic")
	case len(t) > 65535:
		return fmt.Errorf("topic longer than 65535 bytes")
	case strings.ContainsAny(t, "+#\x00"):
		return fmt.Errorf("topic %q: a topic name may not contain +, # or NUL", t)
	}
	return nil
}

// validFilter checks a topic filter to subscribe to.
func validFilter(f string) error {
	if f == "" {
		return fmt.Errorf("empty topic filter")
	}
	if strings.ContainsRune(f, 0) {
		return fmt.Errorf("NUL in topic filter")
	}
	if rest, ok := strings.CutPrefix(f, "$share/"); ok {
		group, filter, found := strings.Cut(rest, "/")
		if !found || group == "" || strings.ContainsAny(group, "+#") || filter == "" {
			return fmt.Errorf("%q: a shared subscription is $share/<group>/<filter>", f)
		}
		f = filter
	}
	levels := strings.Split(f, "/")
	for i, l := range levels {
		switch {
		case l == "#" && i != len(levels)-1:
			return fmt.Errorf("%q: # must be the last level", f)
		case l != "#" && l != "+" && strings.ContainsAny(l, "+#"):
			return fmt.Errorf("%q: + and # must stand alone in their level", f)
		}
	}
	return nil
}

// OutboundAddresses implements connector.Outbound: each server of the
// comma-separated list.
func (c *ConnConfig) OutboundAddresses() []connector.Address {
	var out []connector.Address
	for i, u := range strings.Split(c.URL, ",") {
		out = append(out, connector.Address{Field: fmt.Sprintf("url[%d]", i), Value: strings.TrimSpace(u)})
	}
	return out
}
