package sns

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha1" // SNS signature version 1 is RSA with SHA-1; AWS chooses it, not us
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/connector/webhook"
)

// Message is an SNS message as posted to an HTTP(S) subscription.
type Message struct {
	Type             string
	MessageID        string `json:"MessageId"`
	Token            string
	TopicArn         string
	Subject          *string
	Message          string
	Timestamp        string
	SignatureVersion string
	Signature        string
	SigningCertURL   string
	SubscribeURL     string
	UnsubscribeURL   string
}

// The message types.
const (
	TypeNotification   = "Notification"
	TypeSubscription   = "SubscriptionConfirmation"
	TypeUnsubscription = "UnsubscribeConfirmation"
)

// ParseMessage reads an SNS message (whatever the Content-Type: SNS sends
// text/plain).
func ParseMessage(body []byte) (*Message, error) {
	var m Message
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, webhook.Invalidf("not an SNS message: %v", err)
	}
	switch m.Type {
	case TypeNotification, TypeSubscription, TypeUnsubscription:
	default:
		return nil, webhook.Invalidf("unknown SNS message type %q", m.Type)
	}
	if m.MessageID == "" || m.TopicArn == "" {
		return nil, webhook.Invalidf("an SNS message needs MessageId and TopicArn")
	}
	return &m, nil
}

// StringToSign builds what SNS signs: "Key\nValue\n" for each signed key,
// in byte order; Subject only when present.
func (m *Message) StringToSign() string {
	var b strings.Builder
	add := func(k, v string) { b.WriteString(k + "\n" + v + "\n") }
	add("Message", m.Message)
	add("MessageId", m.MessageID)
	if m.Type == TypeNotification {
		if m.Subject != nil {
			add("Subject", *m.Subject)
		}
	} else {
		add("SubscribeURL", m.SubscribeURL)
	}
	add("Timestamp", m.Timestamp)
	if m.Type != TypeNotification {
		add("Token", m.Token)
	}
	add("TopicArn", m.TopicArn)
	add("Type", m.Type)
	return b.String()
}

// snsHost is the host of SNS's endpoints, where certificates and
// subscription URLs must live.
var snsHost = regexp.MustCompile(`^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$`)

// CheckSNSURL refuses a URL that is not https on an SNS host: the
// signing certificate is fetched, and a subscription confirmed, only there.
func CheckSNSURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.User != nil || u.Port() != "" || !snsHost.MatchString(u.Host) {
		return nil, fmt.Errorf("%w: %q is not an https URL on an sns.<region>.amazonaws.com host", webhook.ErrSignature, raw)
	}
	return u, nil
}

// Verify checks m's signature with the certificate at SigningCertURL.
func (m *Message) Verify(ctx context.Context, certs *certCache, now time.Time) error {
	var h crypto.Hash
	var sum []byte
	switch m.SignatureVersion {
	case "1":
		s := sha1.Sum([]byte(m.StringToSign()))
		h, sum = crypto.SHA1, s[:]
	case "2":
		s := sha256.Sum256([]byte(m.StringToSign()))
		h, sum = crypto.SHA256, s[:]
	default:
		return fmt.Errorf("%w: SignatureVersion %q (want 1 or 2)", webhook.ErrSignature, m.SignatureVersion)
	}
	if m.Signature == "" {
		return fmt.Errorf("%w: the message is not signed", webhook.ErrMissing)
	}
	sig, err := base64.StdEncoding.DecodeString(m.Signature)
	if err != nil {
		return fmt.Errorf("%w: Signature is not base64", webhook.ErrSignature)
	}
	u, err := CheckSNSURL(m.SigningCertURL)
	if err != nil {
		return err
	}
	pub, err := certs.key(ctx, u.String(), now)
	if err != nil {
		return err
	}
	if err := rsa.VerifyPKCS1v15(pub, h, sum, sig); err != nil {
		return fmt.Errorf("%w: the SNS signature does not verify", webhook.ErrSignature)
	}
	return nil
}

// certCache fetches signing certificates, checks their chain, and keeps
// their keys until they expire. Safe for concurrent use.
type certCache struct {
	client *http.Client
	roots  *x509.CertPool

	mu    sync.Mutex
	certs map[string]*x509.Certificate
}

// maxCerts bounds the cache (SNS has a few certificates per region).
const maxCerts = 64

func newCertCache(client *http.Client, roots *x509.CertPool) *certCache {
	return &certCache{client: client, roots: roots, certs: map[string]*x509.Certificate{}}
}

func (c *certCache) key(ctx context.Context, certURL string, now time.Time) (*rsa.PublicKey, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cert, ok := c.certs[certURL]
	if !ok || now.After(cert.NotAfter) {
		var err error
		if cert, err = c.fetch(ctx, certURL, now); err != nil {
			return nil, err
		}
		if len(c.certs) >= maxCerts {
			clear(c.certs)
		}
		c.certs[certURL] = cert
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: the signing certificate has no RSA key", webhook.ErrSignature)
	}
	return pub, nil
}

func (c *certCache) fetch(ctx context.Context, certURL string, now time.Time) (*x509.Certificate, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, certURL, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: signing certificate: %v", webhook.ErrUpstream, err)
	}
	res, err := c.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: signing certificate: %v", webhook.ErrUpstream, err)
	}
	defer res.Body.Close()
	switch {
	case res.StatusCode >= 500 || res.StatusCode == http.StatusTooManyRequests:
		return nil, fmt.Errorf("%w: signing certificate: %s answered %d", webhook.ErrUpstream, certURL, res.StatusCode)
	case res.StatusCode != http.StatusOK:
		// No such certificate on SNS: the message names one it never had.
		return nil, fmt.Errorf("%w: signing certificate: %s answered %d", webhook.ErrSignature, certURL, res.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if err != nil {
		return nil, fmt.Errorf("%w: signing certificate: %v", webhook.ErrUpstream, err)
	}
	var chain []*x509.Certificate
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: signing certificate: %v", webhook.ErrSignature, err)
		}
		chain = append(chain, cert)
	}
	if len(chain) == 0 {
		return nil, fmt.Errorf("%w: no certificate at %s", webhook.ErrSignature, certURL)
	}
	inter := x509.NewCertPool()
	for _, ic := range chain[1:] {
		inter.AddCert(ic)
	}
	_, err = chain[0].Verify(x509.VerifyOptions{
		Roots: c.roots, Intermediates: inter, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	if err != nil {
		return nil, fmt.Errorf("%w: signing certificate: %v", webhook.ErrSignature, err)
	}
	return chain[0], nil
}
