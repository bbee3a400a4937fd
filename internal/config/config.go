// Package config reads the YAML config file: defaults in one place, secret
// references (${env:NAME}, ${file:PATH}, ${secret:NAME}), the named secrets
// that resources sent through the API may use, and validation that reports
// every problem with its path and line.
package config

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/api/credential"
	"github.com/eventbridge-dev/eventbridge/internal/bus"
	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/httplimit"
	"github.com/eventbridge-dev/eventbridge/internal/jobs/jobapi"
	"github.com/eventbridge-dev/eventbridge/internal/lifecycle"
	"github.com/eventbridge-dev/eventbridge/internal/resource"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
	"github.com/eventbridge-dev/eventbridge/internal/state"
	"github.com/eventbridge-dev/eventbridge/internal/telemetry"
)

// Config is a loaded, defaulted and validated configuration.
type Config struct {
	// Path is the file it was read from ("" when built in code).
	Path string `json:"-"`

	Instance        InstanceConfig          `json:"instance,omitempty"`
	Log             LogConfig               `json:"log,omitempty"`
	Bus             bus.Config              `json:"bus,omitempty"`
	API             APIConfig               `json:"api,omitempty"`
	ShutdownTimeout spec.Duration           `json:"shutdown_timeout,omitempty"`
	Lifecycle       lifecycle.Config        `json:"lifecycle,omitempty"`
	Tracing         telemetry.TracingConfig `json:"tracing,omitempty"`
	// Jobs configures the scheduler of the poll and cron sources.
	Jobs jobapi.Config `json:"jobs,omitempty"`
	// Oran serves the O-RAN O-Cloud Notification API (docs/oran.md).
	Oran OranConfig `json:"oran,omitempty"`
	// State keeps the last event per key (see docs/state.md).
	State state.Config `json:"state,omitempty"`

	// Secrets are the named secrets (secrets:), expanded: resources refer
	// to them as ${secret:NAME} in secret fields. They are the only values
	// of the bridge's environment and files that resources sent through
	// the API can use.
	Secrets map[string]spec.Secret `json:"-"`

	Sources map[string]connector.Config `json:"-"`
	Targets map[string]connector.Config `json:"-"`
	Rules   map[string]*resource.Rule   `json:"-"`

	// raw holds each resource's spec as written (secret references not
	// expanded), by resource key, for the store.
	raw map[string]json.RawMessage
	// undecoded holds the sources and targets ("sources.NAME") that the
	// file defines but that could not be decoded: already reported, rules
	// may still name them.
	undecoded map[string]bool
	// decoded holds the rules decoded from exactly their stored spec
	// (raw), as the controller decodes it, in a config without problems:
	// Objects hands them on, so that they are not decoded again.
	decoded map[string]*resource.Rule
}

// Objects returns the file's resources as store objects of origin "file".
func (c *Config) Objects() []*resource.Object {
	var out []*resource.Object
	add := func(kind resource.Kind, names []string) {
		for _, name := range names {
			raw, ok := c.raw[resource.Key(kind, name)]
			if !ok {
				continue
			}
			o := &resource.Object{Kind: kind, Name: name, Origin: resource.OriginFile, File: c.Path, Spec: raw}
			if kind == resource.KindRule {
				if r := c.decoded[name]; r != nil && r == c.Rules[name] {
					o.Decoded = r
				}
			}
			out = append(out, o)
		}
	}
	add(resource.KindTarget, sortedKeys(c.Targets))
	add(resource.KindRule, sortedKeys(c.Rules))
	add(resource.KindSource, sortedKeys(c.Sources))
	return out
}

// WithoutResources returns a copy of c without its sources, targets and
// rules: what a running bridge keeps once they are in the store (the parsed
// specs of 10,000 rules are not worth keeping).
func (c *Config) WithoutResources() *Config {
	cc := *c
	cc.Sources, cc.Targets, cc.Rules, cc.raw, cc.decoded = nil, nil, nil, nil, nil
	return &cc
}

// Refs is the reference policy of resources of an origin: the config
// file's may read the environment and files; those sent through the API
// may only name the file's secrets.
func (c *Config) Refs(origin string) spec.Refs {
	return spec.Refs{EnvFile: origin == resource.OriginFile, Secrets: c.Secrets}
}

// InstanceConfig names this process.
type InstanceConfig struct {
	// Name labels logs, metrics and lifecycle events. Default: the host name.
	Name string `json:"name,omitempty"`
	// Replica tells this process apart from the other replicas of a
	// deployment: the replica label of every eventbridge_* series.
	// Default: <name>-<pid>, different for every process even on one host.
	Replica string `json:"replica,omitempty"`
}

// LogConfig configures the bridge's own logs.
type LogConfig struct {
	// Level is debug, info (default), warn or error.
	Level string `json:"level,omitempty"`
	// Format is text (default) or json.
	Format string `json:"format,omitempty"`
}

// APIConfig configures the shared HTTP server: the API, health, metrics,
// and the sources mounted on it.
type APIConfig struct {
	// Listen is the address. Default 127.0.0.1:8080.
	Listen string `json:"listen,omitempty"`
	// Pprof serves /debug/pprof (for profiling; keep it off in production).
	Pprof bool `json:"pprof,omitempty"`
	// MetricsListen, when set, serves /metrics on this address instead of
	// api.listen (e.g. to keep it off a public port).
	MetricsListen string `json:"metrics_listen,omitempty"`
	// Tokens are the API's bearer tokens, by name. With none (and no
	// client certificates), the API answers loopback clients only.
	Tokens map[string]*credential.Token `json:"tokens,omitempty"`
	// TLS serves the shared HTTP server over TLS, optionally requiring
	// client certificates.
	TLS *TLSServerConfig `json:"tls,omitempty"`
	// AllowPrivateAddresses lets the resources created through the API
	// (targets, sources, subscriptions) reach loopback, link-local,
	// private and other non-public addresses. Off by default (SSRF
	// protection); the config file's resources may reach any address.
	AllowPrivateAddresses bool `json:"allow_private_addresses,omitempty"`
	// AllowPrivateSinks is the former name of AllowPrivateAddresses, from
	// when only subscription sinks were checked; either one turns the
	// check off.
	AllowPrivateSinks bool `json:"allow_private_sinks,omitempty"`
	// SubscriptionDLQMaxAge is how long the dead letters of subscriptions
	// are kept (bus.dlq_max_age, when shorter, still applies). Subscriptions
	// are made by API users, so their letters are not kept forever. Default
	// 168h.
	SubscriptionDLQMaxAge spec.Duration `json:"subscription_dlq_max_age,omitempty"`
	// ReadTimeout bounds reading the body of each request to the shared
	// server (API and mounted sources, which may set a shorter one).
	// Default 30s.
	ReadTimeout spec.Duration `json:"read_timeout,omitempty"`
}

// DefaultSubscriptionDLQMaxAge is api.subscription_dlq_max_age's default:
// the archive's default age, after which the event could not be replayed
// either.
const DefaultSubscriptionDLQMaxAge = 7 * 24 * time.Hour

// SubscriptionDeadLetterTTL is how long a subscription's dead letter is
// kept: api.subscription_dlq_max_age, or bus.dlq_max_age when that is set
// and shorter.
func (c *Config) SubscriptionDeadLetterTTL() time.Duration {
	ttl := c.API.SubscriptionDLQMaxAge.D()
	if b := c.Bus.DLQMaxAge.D(); b > 0 && b < ttl {
		ttl = b
	}
	return ttl
}

// PrivateAddressesAllowed reports whether API-created resources may reach
// non-public addresses.
func (c *APIConfig) PrivateAddressesAllowed() bool {
	return c.AllowPrivateAddresses || c.AllowPrivateSinks
}

// TLSServerConfig is the server side of TLS.
type TLSServerConfig struct {
	CertFile string `json:"cert_file"`
	KeyFile  string `json:"key_file"`
	// ClientCAFile, when set, makes the API accept client certificates
	// signed by these CAs (mutual TLS); they grant ClientScopes.
	ClientCAFile string             `json:"client_ca_file,omitempty"`
	ClientScopes []credential.Scope `json:"client_scopes,omitempty"`
}

// Defaults fills unset fields of the global sections.
func (c *Config) Defaults() {
	if c.Instance.Name == "" {
		c.Instance.Name, _ = os.Hostname()
		if c.Instance.Name == "" {
			c.Instance.Name = "eventbridge"
		}
	}
	if c.Instance.Replica == "" {
		c.Instance.Replica = c.Instance.Name + "-" + strconv.Itoa(os.Getpid())
	}
	if c.Log.Level == "" {
		c.Log.Level = "info"
	}
	if c.Log.Format == "" {
		c.Log.Format = "text"
	}
	c.Bus.Defaults()
	if c.API.Listen == "" {
		c.API.Listen = "127.0.0.1:8080"
	}
	if c.API.SubscriptionDLQMaxAge == 0 {
		c.API.SubscriptionDLQMaxAge = spec.Duration(DefaultSubscriptionDLQMaxAge)
	}
	if c.API.ReadTimeout == 0 {
		c.API.ReadTimeout = spec.Duration(httplimit.DefaultReadTimeout)
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = spec.Duration(30 * time.Second)
	}
	c.Lifecycle.Defaults()
	c.Jobs.Defaults()
	c.Oran.Defaults(c.API.TLS)
	c.State.Defaults()
	c.State.Replicas, c.State.AckWait = c.Bus.Replicas, c.Bus.AckWait.D()
	for _, r := range c.Rules {
		r.Defaults()
	}
}

// Validate reports every problem under p.
func (c *Config) Validate(p spec.Problems) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.Log.Level)); err != nil {
		p.AddAt("log.level", "must be debug, info, warn or error")
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		p.AddAt("log.format", "must be text or json")
	}
	c.Bus.Validate(p.At("bus"))
	for _, name := range sortedKeys(c.Secrets) {
		if !spec.ValidName(name) {
			p.At("secrets").AddAt(name, "invalid name: %s", spec.NameRule)
		}
	}
	if c.API.ReadTimeout.D() < 0 {
		p.AddAt("api.read_timeout", "must not be negative")
	}
	c.Oran.Validate(p.At("oran"))
	for _, name := range sortedKeys(c.API.Tokens) {
		if !spec.ValidName(name) {
			p.At("api.tokens").AddAt(name, "invalid name: %s", spec.NameRule)
		}
		if c.API.Tokens[name] == nil {
			p.At("api.tokens").AddAt(name, "empty token")
			continue
		}
		c.API.Tokens[name].Validate(p.At("api.tokens").At(name))
	}
	if t := c.API.TLS; t != nil {
		if t.CertFile == "" || t.KeyFile == "" {
			p.AddAt("api.tls", "cert_file and key_file are required")
		}
		if t.ClientCAFile != "" && len(t.ClientScopes) == 0 {
			p.AddAt("api.tls.client_scopes", "required with client_ca_file: read, write or admin")
		}
		if t.ClientCAFile == "" && len(t.ClientScopes) > 0 {
			p.AddAt("api.tls.client_scopes", "needs client_ca_file")
		}
	}
	if c.API.SubscriptionDLQMaxAge.D() < time.Second {
		p.AddAt("api.subscription_dlq_max_age", "must be at least 1s")
	}
	if c.ShutdownTimeout.D() <= 0 {
		p.AddAt("shutdown_timeout", "must be positive")
	}
	c.Lifecycle.Validate(p.At("lifecycle"))
	c.Tracing.Validate(p.At("tracing"))
	c.Jobs.Validate(p.At("jobs"))
	c.State.Validate(p.At("state"))
	if _, taken := c.Sources[lifecycle.SourceName]; taken {
		p.At("sources").AddAt(lifecycle.SourceName, "the source name %q is kept for the bridge's lifecycle events", lifecycle.SourceName)
	}
	for _, name := range sortedKeys(c.Sources) {
		checkName(p.At("sources").At(name), name)
		resource.ValidateCommon(resource.KindSource, c.Sources[name], p.At("sources").At(name))
		c.Sources[name].Validate(p.At("sources").At(name))
	}
	for _, name := range sortedKeys(c.Targets) {
		checkName(p.At("targets").At(name), name)
		resource.ValidateCommon(resource.KindTarget, c.Targets[name], p.At("targets").At(name))
		c.Targets[name].Validate(p.At("targets").At(name))
	}
	paths := map[string]string{}
	for _, name := range sortedKeys(c.Sources) {
		// "" is a source on its own listener: nothing to share.
		if m, ok := c.Sources[name].(interface{ MountPath() string }); ok && m.MountPath() != "" {
			if other, dup := paths[m.MountPath()]; dup {
				p.At("sources").At(name).AddAt("path", "path %s is already used by source %s", m.MountPath(), other)
			}
			paths[m.MountPath()] = name
		}
	}
	for _, name := range sortedKeys(c.Rules) {
		rp := p.At("rules").At(name)
		checkName(rp, name)
		r := c.Rules[name]
		r.Validate(rp)
		for i, t := range r.Targets {
			if _, ok := c.Targets[t]; !ok && !c.undecoded["targets."+t] {
				rp.At("targets").Index(i).Add("no target named %q (targets: %s)", t, strings.Join(sortedKeys(c.Targets), ", "))
			}
		}
		for i, s := range r.Sources {
			if _, ok := c.Sources[s]; !ok && s != lifecycle.SourceName && !c.undecoded["sources."+s] {
				rp.At("sources").Index(i).Add("no source named %q (sources: %s)", s, strings.Join(sortedKeys(c.Sources), ", "))
			}
		}
	}
}

func checkName(p spec.Problems, name string) {
	if !spec.ValidName(name) {
		p.Add("invalid name: %s", spec.NameRule)
	}
	if strings.HasPrefix(name, "subscription-") {
		p.Add("names starting with \"subscription-\" are kept for subscriptions")
	}
}

// Load reads, defaults and validates a config file.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	c, err := Parse(data)
	if c != nil {
		c.Path = path
	}
	return c, err
}

// LogHandler builds the handler of the bridge's logs (to stderr, in the
// configured format). It passes every level: the bridge's loggers filter.
func (c *Config) LogHandler() slog.Handler {
	opts := &slog.HandlerOptions{Level: slog.LevelDebug}
	if c.Log.Format == "json" {
		return slog.NewJSONHandler(os.Stderr, opts)
	}
	return slog.NewTextHandler(os.Stderr, opts)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// OranConfig serves the O-RAN O-Cloud Notification API of
// cloud-event-proxy (/api/ocloudNotifications/v1/ and /v2/) on a listener
// of its own, with api.tokens for authentication.
type OranConfig struct {
	// Listen is the address; empty (the default) serves no O-RAN API.
	// cloud-event-proxy listens on port 9043.
	Listen string `json:"listen,omitempty"`
	// APIHost is the base URL (scheme, host, port) of the uriLocation of
	// subscriptions and publishers. Default http://localhost:<listen port>
	// (https:// with tls or api.tls).
	APIHost string `json:"api_host,omitempty"`
	// TLS serves the listener over TLS; default api.tls.
	TLS *TLSServerConfig `json:"tls,omitempty"`
	// FailAfter is how many delivery failures in a row (connection
	// refused, DNS error, timeout) make a client lose all its
	// subscriptions. Default 10; 0 never.
	FailAfter *int `json:"fail_after,omitempty"`
}

// DefaultOranFailAfter is oran.fail_after's default.
const DefaultOranFailAfter = 10

// Defaults fills oran's unset fields; apiTLS is api.tls, which the
// listener uses when it has no tls of its own.
func (c *OranConfig) Defaults(apiTLS *TLSServerConfig) {
	if c.FailAfter == nil {
		n := DefaultOranFailAfter
		c.FailAfter = &n
	}
	if c.APIHost == "" && c.Listen != "" {
		scheme := "http"
		if c.TLS != nil || apiTLS != nil {
			scheme = "https"
		}
		port := c.Listen
		if i := strings.LastIndex(port, ":"); i >= 0 {
			port = port[i+1:]
		}
		c.APIHost = scheme + "://localhost:" + port
	}
}

// Validate reports oran's problems.
func (c *OranConfig) Validate(p spec.Problems) {
	if c.FailAfter != nil && *c.FailAfter < 0 {
		p.AddAt("fail_after", "must not be negative (0: never)")
	}
	if c.APIHost != "" {
		u, err := url.Parse(c.APIHost)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			p.AddAt("api_host", "must be a base URL such as http://ptp-event-publisher-service.example:9043")
		}
	}
	if t := c.TLS; t != nil && (t.CertFile == "" || t.KeyFile == "") {
		p.AddAt("tls", "cert_file and key_file are required")
	}
}
