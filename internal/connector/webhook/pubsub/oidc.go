package pubsub

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/connector/webhook"
)

// Issuers of Google's ID tokens.
var googleIssuers = []string{"https://accounts.google.com", "accounts.google.com"}

// leeway is the clock skew allowed on exp, iat and nbf.
const leeway = time.Minute

// verifier checks the OIDC tokens Pub/Sub sends in Authorization: Bearer
// (a JWT signed with RS256 by one of Google's keys).
type verifier struct {
	audience string
	emails   []string
	keys     *keySet
}

func newVerifier(o *OIDC, keys *keySet) *verifier {
	return &verifier{audience: o.Audience, emails: o.Emails, keys: keys}
}

// claims are the token's claims we check.
type claims struct {
	Iss           string          `json:"iss"`
	Aud           json.RawMessage `json:"aud"`
	Exp           *json.Number    `json:"exp"`
	Iat           *json.Number    `json:"iat"`
	Nbf           *json.Number    `json:"nbf"`
	Email         string          `json:"email"`
	EmailVerified any             `json:"email_verified"`
}

// Verify checks a token: its RS256 signature by a known key, its issuer
// (Google), audience, expiry, and when emails are configured, a verified
// email among them. A bad signature, issuer or audience is ErrSignature;
// an expired token ErrStale; an email not allowed ErrForbidden.
func (v *verifier) Verify(ctx context.Context, token string, now time.Time) error {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return fmt.Errorf("%w: the bearer token is not a JWT", webhook.ErrSignature)
	}
	var hdr struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	if err := decodeSegment(parts[0], &hdr); err != nil {
		return err
	}
	if hdr.Alg != "RS256" {
		return fmt.Errorf("%w: token algorithm %q, want RS256", webhook.ErrSignature, hdr.Alg)
	}
	sig, err := base64.RawURLEncoding.Strict().DecodeString(parts[2])
	if err != nil {
		return fmt.Errorf("%w: the token's signature is not base64url", webhook.ErrSignature)
	}
	key, err := v.keys.key(ctx, hdr.Kid, now)
	if err != nil {
		return err
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(key, crypto.SHA256, digest[:], sig); err != nil {
		return fmt.Errorf("%w: the token's signature does not verify", webhook.ErrSignature)
	}
	var c claims
	if err := decodeSegment(parts[1], &c); err != nil {
		return err
	}
	return v.checkClaims(&c, now)
}

func (v *verifier) checkClaims(c *claims, now time.Time) error {
	if !slices.Contains(googleIssuers, c.Iss) {
		return fmt.Errorf("%w: token issuer %q is not Google", webhook.ErrSignature, c.Iss)
	}
	if !audienceHas(c.Aud, v.audience) {
		return fmt.Errorf("%w: the token is for another audience", webhook.ErrSignature)
	}
	exp, ok := unix(c.Exp)
	if !ok {
		return fmt.Errorf("%w: the token has no exp", webhook.ErrSignature)
	}
	if now.After(exp.Add(leeway)) {
		return fmt.Errorf("%w: the token expired at %s", webhook.ErrStale, exp.UTC().Format(time.RFC3339))
	}
	for _, t := range []*json.Number{c.Iat, c.Nbf} {
		if at, ok := unix(t); ok && at.After(now.Add(leeway)) {
			return fmt.Errorf("%w: the token is not valid before %s", webhook.ErrStale, at.UTC().Format(time.RFC3339))
		}
	}
	if len(v.emails) > 0 {
		if !slices.Contains(v.emails, c.Email) || !(c.EmailVerified == true || c.EmailVerified == "true") {
			return fmt.Errorf("%w: the token's service account %q is not allowed", webhook.ErrForbidden, c.Email)
		}
	}
	return nil
}

func decodeSegment(s string, v any) error {
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil {
		return fmt.Errorf("%w: a token segment is not base64url", webhook.ErrSignature)
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: a token segment is not a JSON object", webhook.ErrSignature)
	}
	return nil
}

// audienceHas reports whether aud (a string or an array of strings) holds want.
func audienceHas(aud json.RawMessage, want string) bool {
	var one string
	if json.Unmarshal(aud, &one) == nil {
		return one == want
	}
	var many []string
	return json.Unmarshal(aud, &many) == nil && slices.Contains(many, want)
}

func unix(n *json.Number) (time.Time, bool) {
	if n == nil {
		return time.Time{}, false
	}
	f, err := n.Float64()
	if err != nil || f <= 0 || f > 253402300799 {
		return time.Time{}, false
	}
	return time.Unix(int64(f), 0), true
}
