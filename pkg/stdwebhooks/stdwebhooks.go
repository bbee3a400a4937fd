// Package stdwebhooks signs and verifies webhooks the Standard Webhooks
// way (https://www.standardwebhooks.com): a request carries the headers
// webhook-id, webhook-timestamp (Unix seconds) and webhook-signature, a
// space-separated list of "v1,<base64 HMAC-SHA256>" signatures of
// "<id>.<timestamp>.<body>", one per secret the sender signs with (two
// while a secret is rotated).
//
// eventbridge's http target signs what it sends this way when its
// signing: block is set; a Go receiver verifies those calls with a
// Verifier:
//
//	v, err := stdwebhooks.NewVerifier([]string{os.Getenv("WEBHOOK_SECRET")})
//	...
//	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
//	if err := v.Verify(r.Header, body); err != nil {
//		http.Error(w, "bad signature", http.StatusUnauthorized)
//		return
//	}
//
// Receivers built for Svix or Convoy webhooks verify the same headers
// unchanged.
package stdwebhooks

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The headers of a signed webhook.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// SecretPrefix starts the text form of a secret: "whsec_" and the
// secret's bytes in standard base64.
const SecretPrefix = "whsec_"

// DefaultTolerance is how far a timestamp may be from the receiver's
// clock, either way, for Verify to accept it (the Standard Webhooks
// libraries' default).
const DefaultTolerance = 5 * time.Minute

// MinSecretBytes and MaxSecretBytes bound a secret's length, as the
// specification asks for symmetric secrets.
const (
	MinSecretBytes = 24
	MaxSecretBytes = 64
)

// Errors returned by ParseSecret and Verify; test with errors.Is.
var (
	// ErrSecret: a secret is not "whsec_" and base64, or is too short
	// or too long.
	ErrSecret = errors.New("stdwebhooks: invalid secret")
	// ErrMissingHeaders: webhook-id, webhook-timestamp or
	// webhook-signature is missing.
	ErrMissingHeaders = errors.New("stdwebhooks: missing webhook headers")
	// ErrInvalidHeaders: the timestamp is not an integer, or the id holds
	// a '.'.
	ErrInvalidHeaders = errors.New("stdwebhooks: invalid webhook headers")
	// ErrTimestamp: the timestamp is outside the tolerance.
	ErrTimestamp = errors.New("stdwebhooks: timestamp outside the tolerance")
	// ErrNoMatch: no v1 signature matches any of the secrets.
	ErrNoMatch = errors.New("stdwebhooks: no matching signature")
)

// ParseSecret returns the key of a secret in its text form: "whsec_"
// followed by standard base64 (the prefix may be left out, as the
// Standard Webhooks libraries allow). The key must have between
// MinSecretBytes and MaxSecretBytes bytes.
func ParseSecret(s string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, SecretPrefix))
	if err != nil {
		return nil, fmt.Errorf("%w: not base64 after %q", ErrSecret, SecretPrefix)
	}
	if len(key) < MinSecretBytes || len(key) > MaxSecretBytes {
		return nil, fmt.Errorf("%w: %d bytes, must be %d to %d", ErrSecret, len(key), MinSecretBytes, MaxSecretBytes)
	}
	return key, nil
}

// Sign returns the v1 signature of a message, "v1,<base64>", made with
// key (a secret's bytes, from ParseSecret).
func Sign(key []byte, id string, timestamp int64, body []byte) string {
	return "v1," + base64.StdEncoding.EncodeToString(mac(key, id, timestamp, body))
}

func mac(key []byte, id string, timestamp int64, body []byte) []byte {
	h := hmac.New(sha256.New, key)
	var ts [20]byte
	h.Write([]byte(id))
	h.Write([]byte{'.'})
	h.Write(strconv.AppendInt(ts[:0], timestamp, 10))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// Signer signs messages with one or more secrets. It is safe for
// concurrent use.
type Signer struct {
	keys [][]byte
}

// NewSigner returns a signer for secrets in their text form, the current
// one first (during a rotation, the previous one second).
func NewSigner(secrets ...string) (*Signer, error) {
	keys, err := parseSecrets(secrets)
	if err != nil {
		return nil, err
	}
	return &Signer{keys: keys}, nil
}

func parseSecrets(secrets []string) ([][]byte, error) {
	if len(secrets) == 0 {
		return nil, fmt.Errorf("%w: none given", ErrSecret)
	}
	keys := make([][]byte, 0, len(secrets))
	for i, s := range secrets {
		k, err := ParseSecret(s)
		if err != nil {
			return nil, fmt.Errorf("secret %d: %w", i+1, err)
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// Signature returns the webhook-signature value of a message: one v1
// signature per secret, space-separated, in the order the secrets were
// given.
func (s *Signer) Signature(id string, timestamp int64, body []byte) string {
	var b strings.Builder
	for i, k := range s.keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(Sign(k, id, timestamp, body))
	}
	return b.String()
}

// SetHeaders sets the three webhook headers on h for a message sent at
// time at. id must not hold a '.'.
func (s *Signer) SetHeaders(h http.Header, id string, at time.Time, body []byte) {
	ts := at.Unix()
	h.Set(HeaderID, id)
	h.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	h.Set(HeaderSignature, s.Signature(id, ts, body))
}

// Verifier checks signed webhooks. The zero value is not usable; make
// one with NewVerifier. It is safe for concurrent use.
type Verifier struct {
	keys [][]byte
	// Tolerance is how far webhook-timestamp may be from Now, either way.
	// NewVerifier sets DefaultTolerance; a negative value turns the check
	// off (do not, unless replays are handled some other way).
	Tolerance time.Duration
	// Now gives the current time; NewVerifier sets time.Now.
	Now func() time.Time
}

// NewVerifier returns a verifier that accepts a signature made with any
// of secrets (in their text form; give both during a rotation).
func NewVerifier(secrets []string) (*Verifier, error) {
	keys, err := parseSecrets(secrets)
	if err != nil {
		return nil, err
	}
	return &Verifier{keys: keys, Tolerance: DefaultTolerance, Now: time.Now}, nil
}

// Verify checks the webhook headers of a request against its body (the
// bytes as received, before any JSON decoding). It returns nil when one
// v1 signature in webhook-signature was made with one of the secrets over
// this id, timestamp and body, and the timestamp is within the tolerance;
// otherwise an error wrapping ErrMissingHeaders, ErrInvalidHeaders,
// ErrTimestamp or ErrNoMatch. Signatures are compared in constant time.
// Use webhook-id to drop a message delivered twice.
func (v *Verifier) Verify(h http.Header, body []byte) error {
	id, tsText, sigs := h.Get(HeaderID), h.Get(HeaderTimestamp), h.Get(HeaderSignature)
	if id == "" || tsText == "" || sigs == "" {
		return ErrMissingHeaders
	}
	if strings.Contains(id, ".") {
		return fmt.Errorf("%w: %s holds a '.'", ErrInvalidHeaders, HeaderID)
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %s is not an integer", ErrInvalidHeaders, HeaderTimestamp)
	}
	if v.Tolerance >= 0 {
		now := time.Now
		if v.Now != nil {
			now = v.Now
		}
		skew := now().Sub(time.Unix(ts, 0))
		if skew > v.Tolerance || -skew > v.Tolerance {
			return fmt.Errorf("%w: %s off by %s", ErrTimestamp, HeaderTimestamp, skew.Round(time.Second))
		}
	}
	macs := make([][]byte, len(v.keys))
	for i, k := range v.keys {
		macs[i] = mac(k, id, ts, body)
	}
	for _, sig := range strings.Fields(sigs) {
		version, b64, ok := strings.Cut(sig, ",")
		if !ok || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			continue
		}
		for _, m := range macs {
			if hmac.Equal(got, m) {
				return nil
			}
		}
	}
	return ErrNoMatch
}
