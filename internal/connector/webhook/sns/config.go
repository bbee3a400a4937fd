// Package sns is the aws-sns source: the endpoint of an Amazon SNS HTTP(S)
// subscription. It checks each message's signature (versions 1 and 2)
// with the signing certificate, fetched only from SNS's own hosts,
// confirms the subscription when told to, and maps notifications to
// CloudEvents (the CloudEvents AWS SNS adapter), unwrapping a message that
// is itself a CloudEvent or an EventBridge event.
package sns

import (
	"crypto/x509"
	"net/http"
	"regexp"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/webhook"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

// TypeName is the source type.
const TypeName = "aws-sns"

// Config configures an aws-sns source.
type Config struct {
	connector.Common `yaml:",inline"`
	webhook.Endpoint `yaml:",inline"`
	// TopicARNs, when set, are the only topics whose messages are taken;
	// others are answered 403 before their signature is checked.
	TopicARNs []string `json:"topic_arns,omitempty"`
	// AutoConfirm confirms a subscription (GET SubscribeURL) when its
	// SubscriptionConfirmation arrives. Otherwise the confirmation is
	// stored as an event, for someone to confirm.
	AutoConfirm bool `json:"auto_confirm,omitempty"`
	// Unwrap makes a notification whose Message is a CloudEvent (JSON
	// format) or an EventBridge event that event. Default true.
	Unwrap *bool `json:"unwrap,omitempty"`
}

var topicARN = regexp.MustCompile(`^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_.-]{1,256}$`)

// Defaults implements connector.Config.
func (c *Config) Defaults() {
	c.FillDefaults("/hooks/aws-sns")
	if c.Unwrap == nil {
		t := true
		c.Unwrap = &t
	}
}

// Validate implements connector.Config.
func (c *Config) Validate(p spec.Problems) {
	c.Endpoint.Validate(p)
	for i, a := range c.TopicARNs {
		if !topicARN.MatchString(a) {
			p.At("topic_arns").Index(i).Add("%q is not an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)", a)
		}
	}
}

func init() {
	webhook.Register(TypeName,
		"receives Amazon SNS HTTP(S) deliveries (signatures v1/v2 checked) as CloudEvents",
		newSource)
}

// options are the test hooks.
type options struct {
	webhook.Options
	// client fetches signing certificates and confirms subscriptions.
	// Default: 10s timeout, no redirects.
	client *http.Client
	// roots verify the certificates' chains. Default: the system's.
	roots *x509.CertPool
}

func newSource(name string, c *Config, deps connector.Deps, o options) *webhook.Source {
	if o.client == nil {
		o.client = &http.Client{
			Transport:     deps.Guard.Transport(),
			Timeout:       10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	h := &handler{
		cfg:    c,
		certs:  newCertCache(o.client, o.roots),
		client: o.client,
		guard:  webhook.NewReplayGuard(webhook.ReplayWindow, webhook.ReplayEntries),
		log:    deps.Logger,
	}
	return webhook.NewSource(name, TypeName, &c.Endpoint, deps, h, o.Options)
}
