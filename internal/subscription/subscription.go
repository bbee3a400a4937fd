// Package subscription implements the CloudEvents Subscriptions API
// resource: a consumer subscribes itself by naming a sink, and the bridge
// runs the subscription as a rule with one target.
package subscription

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"strings"

	"github.com/eventbridge-dev/eventbridge/internal/filter"
	"github.com/eventbridge-dev/eventbridge/internal/netguard"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

// Prefix starts the names of the rule and target a subscription runs as;
// other resources may not use it.
const Prefix = "subscription-"

// Subscription is the Subscriptions API resource (subscriptions/spec.md
// §3.2.1).
type Subscription struct {
	ID               string            `json:"id,omitempty"`
	Source           string            `json:"source,omitempty"`
	Types            []string          `json:"types,omitempty"`
	Config           map[string]any    `json:"config,omitempty"`
	Filters          []any             `json:"filters,omitempty"`
	Sink             string            `json:"sink"`
	SinkCredential   *Credential       `json:"sinkcredential,omitempty"`
	Protocol         string            `json:"protocol"`
	ProtocolSettings *ProtocolSettings `json:"protocolsettings,omitempty"`
}

// Credential is the sink's credential. Its secrets are write-only.
type Credential struct {
	CredentialType        string `json:"credentialtype"`
	Identifier            string `json:"identifier,omitempty"`
	Secret                string `json:"secret,omitempty"`
	AccessToken           string `json:"accesstoken,omitempty"`
	AccessTokenExpiresUTC string `json:"accesstokenexpiresutc,omitempty"`
	AccessTokenType       string `json:"accesstokentype,omitempty"`
	RefreshToken          string `json:"refreshtoken,omitempty"`
	RefreshTokenEndpoint  string `json:"refreshtokenendpoint,omitempty"`
}

// ProtocolSettings are the HTTP settings (other protocols' keys are kept
// but need their connector).
type ProtocolSettings struct {
	Headers map[string]string `json:"headers,omitempty"`
	Method  string            `json:"method,omitempty"`
}

// Protocols the bridge can deliver subscriptions with.
var Protocols = []string{"HTTP"}

// Options are the operator's settings for subscriptions.
type Options struct {
	// AllowPrivate lets sinks be loopback, link-local or private
	// addresses (api.allow_private_addresses). Off by default: SSRF.
	AllowPrivate bool
	// Resolver looks sink hosts up; nil is the system's.
	Resolver netguard.Resolver
}

// Validate checks a subscription, sink address included, and reports
// every problem with its field name.
func Validate(ctx context.Context, s *Subscription, o Options) error {
	p := spec.NewProblems("")
	switch {
	case s.Protocol == "":
		p.AddAt("protocol", "required: %s", strings.Join(Protocols, ", "))
	case s.Protocol != "HTTP":
		p.AddAt("protocol", "protocol %q is not supported here (supported: %s)", s.Protocol, strings.Join(Protocols, ", "))
	}
	u, err := url.Parse(s.Sink)
	switch {
	case s.Sink == "":
		p.AddAt("sink", "required: the URL events are delivered to")
	case err != nil || !u.IsAbs() || u.Host == "":
		p.AddAt("sink", "must be an absolute URL")
	case s.Protocol == "HTTP" && u.Scheme != "http" && u.Scheme != "https":
		p.AddAt("sink", "an HTTP sink must be an http:// or https:// URL")
	case u.User != nil:
		spec.CheckUserinfo(p.At("sink"), u, "sinkcredential")
	case !o.AllowPrivate:
		if err := netguard.CheckHost(ctx, o.Resolver, u.Hostname()); err != nil {
			p.AddAt("sink", "%v (sinks may not reach loopback, link-local or private addresses unless api.allow_private_addresses is set)", err)
		}
	}
	if s.Source != "" {
		if _, err := url.Parse(s.Source); err != nil {
			p.AddAt("source", "must be a URI-reference")
		}
	}
	for i, t := range s.Types {
		if t == "" {
			p.At("types").Index(i).Add("must not be empty")
		}
	}
	for k := range s.Config {
		if k == "" {
			p.AddAt("config", "keys must not be empty")
		}
	}
	if len(s.Filters) > 0 {
		if _, err := filter.Compile(filter.Spec{Filters: s.Filters}); err != nil {
			var fes filter.Errors
			if errors.As(err, &fes) {
				for _, fe := range fes {
					p.AddAt(fe.Path, "%s", fe.Reason)
				}
			} else {
				p.AddAt("filters", "%v", err)
			}
		}
	}
	// A subscription's strings are never expanded: ${env:…} and ${file:…}
	// would read the bridge's environment and files, and none of its
	// fields is a secret field for ${secret:…}.
	cp := *s
	if cp.SinkCredential != nil {
		cred := *cp.SinkCredential
		cp.SinkCredential = &cred
	}
	if cp.ProtocolSettings != nil {
		ps := *cp.ProtocolSettings
		ps.Headers = maps.Clone(ps.Headers)
		cp.ProtocolSettings = &ps
	}
	spec.Expand(&cp, p, spec.Refs{})
	if c := s.SinkCredential; c != nil {
		switch c.CredentialType {
		case "PLAIN":
			if c.Identifier == "" || c.Secret == "" {
				p.AddAt("sinkcredential", "PLAIN needs identifier and secret")
			}
		case "ACCESSTOKEN", "REFRESHTOKEN":
			if c.AccessToken == "" {
				p.AddAt("sinkcredential.accesstoken", "required")
			}
		default:
			p.AddAt("sinkcredential.credentialtype", "must be PLAIN, ACCESSTOKEN or REFRESHTOKEN")
		}
	}
	if ps := s.ProtocolSettings; ps != nil && ps.Method != "" && ps.Method != "POST" && ps.Method != "PUT" {
		p.AddAt("protocolsettings.method", "must be POST or PUT")
	}
	return p.Err()
}

// Redacted returns s without its secrets (sinkcredential secrets are
// write-only: never returned).
func Redacted(s Subscription) Subscription {
	if c := s.SinkCredential; c != nil {
		cp := *c
		cp.Secret, cp.AccessToken, cp.RefreshToken = "", "", ""
		s.SinkCredential = &cp
	}
	return s
}

// Name is the name of the rule and target a subscription runs as.
func Name(id string) string { return Prefix + id }

// Resources returns the specs (JSON, as the API would take them) of the
// target and the rule a subscription runs as.
func Resources(s *Subscription, o Options) (target, rule json.RawMessage, err error) {
	headers := map[string]string{}
	method := "POST"
	if ps := s.ProtocolSettings; ps != nil {
		for k, v := range ps.Headers {
			headers[k] = v
		}
		if ps.Method != "" {
			method = ps.Method
		}
	}
	if c := s.SinkCredential; c != nil {
		switch c.CredentialType {
		case "PLAIN":
			headers["Authorization"] = "Basic " + base64.StdEncoding.EncodeToString([]byte(c.Identifier+":"+c.Secret))
		default:
			typ := c.AccessTokenType
			if typ == "" {
				typ = "Bearer"
			}
			headers["Authorization"] = typ + " " + c.AccessToken
		}
	}
	tspec := map[string]any{
		"type": "http", "url": s.Sink, "method": method, "mode": "binary",
		"block_private": !o.AllowPrivate,
		"description":   "sink of subscription " + s.ID,
		"labels":        map[string]string{"subscription": s.ID},
	}
	if len(headers) > 0 {
		tspec["headers"] = headers
	}
	var filters []any
	if s.Source != "" {
		filters = append(filters, map[string]any{"exact": map[string]any{"source": s.Source}})
	}
	if len(s.Types) > 0 {
		alts := make([]any, len(s.Types))
		for i, t := range s.Types {
			alts[i] = map[string]any{"exact": map[string]any{"type": t}}
		}
		filters = append(filters, map[string]any{"any": alts})
	}
	filters = append(filters, s.Filters...)
	rspec := map[string]any{
		"description": "subscription " + s.ID,
		"labels":      map[string]string{"subscription": s.ID},
		"targets":     []string{Name(s.ID)},
	}
	if len(filters) > 0 {
		rspec["filter"] = map[string]any{"filters": filters}
	}
	if target, err = json.Marshal(tspec); err != nil {
		return nil, nil, fmt.Errorf("subscription: %w", err)
	}
	if rule, err = json.Marshal(rspec); err != nil {
		return nil, nil, fmt.Errorf("subscription: %w", err)
	}
	return target, rule, nil
}
