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
	"slices"
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

// ProtocolSettings are the settings of the HTTP and AMQP protocols
// (subscriptions/spec.md §3.2.2); each protocol takes only its own keys.
type ProtocolSettings struct {
	// HTTP
	Headers map[string]string `json:"headers,omitempty"`
	Method  string            `json:"method,omitempty"`
	// AMQP
	Address              string            `json:"address,omitempty"`
	LinkName             string            `json:"linkname,omitempty"`
	SenderSettlementMode string            `json:"sendersettlementmode,omitempty"`
	LinkProperties       map[string]string `json:"linkproperties,omitempty"`
}

// Protocols the bridge can deliver subscriptions with.
var Protocols = []string{"HTTP", "AMQP"}

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
	case !slices.Contains(Protocols, s.Protocol):
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
	case s.Protocol == "AMQP" && u.Scheme != "amqp" && u.Scheme != "amqps":
		p.AddAt("sink", "an AMQP sink must be an amqp:// or amqps:// URL")
	case s.Protocol == "AMQP" && AMQPAddress(u, amqpSettings(s).Address) == "":
		p.AddAt("sink", "an AMQP sink needs an address: amqp://host:port/address, or protocolsettings.address")
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
			if s.Protocol == "AMQP" {
				p.AddAt("sinkcredential.credentialtype", "an AMQP sink takes PLAIN only (SASL PLAIN)")
				break
			}
			if c.AccessToken == "" {
				p.AddAt("sinkcredential.accesstoken", "required")
			}
		default:
			p.AddAt("sinkcredential.credentialtype", "must be PLAIN, ACCESSTOKEN or REFRESHTOKEN")
		}
	}
	if ps := s.ProtocolSettings; ps != nil {
		validateSettings(p.At("protocolsettings"), s.Protocol, ps)
	}
	return p.Err()
}

// validateSettings checks the protocol's settings and refuses the other
// protocols' keys.
func validateSettings(p spec.Problems, protocol string, ps *ProtocolSettings) {
	other := func(key, proto string) { p.AddAt(key, "is a setting of protocol %s, not %s", proto, protocol) }
	if protocol != "HTTP" {
		if ps.Method != "" {
			other("method", "HTTP")
		}
		if len(ps.Headers) > 0 {
			other("headers", "HTTP")
		}
	} else if ps.Method != "" && ps.Method != "POST" && ps.Method != "PUT" {
		p.AddAt("method", "must be POST or PUT")
	}
	if protocol != "AMQP" {
		for key, set := range map[string]bool{"address": ps.Address != "", "linkname": ps.LinkName != "",
			"sendersettlementmode": ps.SenderSettlementMode != "", "linkproperties": len(ps.LinkProperties) > 0} {
			if set {
				other(key, "AMQP")
			}
		}
		return
	}
	if m := ps.SenderSettlementMode; m != "" && m != "settled" && m != "unsettled" {
		p.AddAt("sendersettlementmode", "must be settled or unsettled, not %q", m)
	}
	for k := range ps.LinkProperties {
		if k == "" {
			p.AddAt("linkproperties", "keys must not be empty")
		}
	}
}

func amqpSettings(s *Subscription) ProtocolSettings {
	if s.ProtocolSettings == nil {
		return ProtocolSettings{}
	}
	return *s.ProtocolSettings
}

// AMQPAddress is the AMQP address a sink URL sends to: address when it is
// set, else the URL's path without its first slash (amqp://host/orders
// sends to "orders"; amqp://host//queue/orders to RabbitMQ's
// "/queue/orders"). Empty when there is none.
func AMQPAddress(sink *url.URL, address string) string {
	if address != "" {
		return address
	}
	return strings.TrimPrefix(sink.Path, "/")
}

// AMQPTarget is what an amqp1 target is made of for a sink.
type AMQPTarget struct {
	// Sink is amqp://host[:port]/address or amqps://…; a user name and
	// password in it are used for SASL PLAIN when Username is empty.
	Sink string
	// Address overrides the sink's path.
	Address string
	// Username and Password authenticate with SASL PLAIN.
	Username, Password string
	LinkName           string
	// SettlementMode is settled or unsettled (default).
	SettlementMode string
	LinkProperties map[string]string
	// Mode is binary (default) or structured.
	Mode string
	// Description and Labels describe the target.
	Description string
	Labels      map[string]string
}

// AMQPTargetSpec returns the spec of the amqp1 target that delivers to an
// AMQP sink (durable messages). The sink's host is not
// checked here: the caller validates it, and the target's connections
// are guarded as every API-made target's are.
func AMQPTargetSpec(a AMQPTarget) (json.RawMessage, error) {
	u, err := url.Parse(a.Sink)
	if err != nil || (u.Scheme != "amqp" && u.Scheme != "amqps") || u.Host == "" {
		return nil, fmt.Errorf("sink %q: not an amqp:// or amqps:// URL", a.Sink)
	}
	addr := AMQPAddress(u, a.Address)
	if addr == "" {
		return nil, fmt.Errorf("sink %q: no address", a.Sink)
	}
	user, pass := a.Username, a.Password
	if user == "" && u.User != nil {
		user = u.User.Username()
		pass, _ = u.User.Password()
	}
	mode := a.Mode
	if mode == "" {
		mode = "binary"
	}
	t := map[string]any{
		"type": "amqp1", "url": (&url.URL{Scheme: u.Scheme, Host: u.Host}).String(), "address": addr,
		"mode": mode, "description": a.Description,
	}
	if len(a.Labels) > 0 {
		t["labels"] = a.Labels
	}
	if user != "" {
		t["username"], t["password"] = user, pass
	}
	if a.LinkName != "" {
		t["link_name"] = a.LinkName
	}
	if a.SettlementMode != "" {
		t["settlement_mode"] = a.SettlementMode
	}
	if len(a.LinkProperties) > 0 {
		t["link_properties"] = a.LinkProperties
	}
	return json.Marshal(t)
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
	if s.Protocol == "AMQP" {
		a := AMQPTarget{Sink: s.Sink, Description: "sink of subscription " + s.ID, Labels: map[string]string{"subscription": s.ID}}
		if ps := s.ProtocolSettings; ps != nil {
			a.Address, a.LinkName, a.SettlementMode, a.LinkProperties = ps.Address, ps.LinkName, ps.SenderSettlementMode, ps.LinkProperties
		}
		if c := s.SinkCredential; c != nil && c.CredentialType == "PLAIN" {
			a.Username, a.Password = c.Identifier, c.Secret
		}
		if target, err = AMQPTargetSpec(a); err != nil {
			return nil, nil, fmt.Errorf("subscription: %w", err)
		}
	}
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
	if target == nil {
		if target, err = json.Marshal(tspec); err != nil {
			return nil, nil, fmt.Errorf("subscription: %w", err)
		}
	}
	if rule, err = json.Marshal(rspec); err != nil {
		return nil, nil, fmt.Errorf("subscription: %w", err)
	}
	return target, rule, nil
}
