package pubsub

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/connector/webhook"
)

// keySet holds the RSA keys that sign tokens, by kid: read once from a
// file, or fetched from a URL and kept for as long as its Cache-Control
// max-age says (default 1h), and fetched again early when a token names a
// kid it does not know (at most every refetchGap), since keys rotate.
type keySet struct {
	url    string
	client *http.Client

	mu      sync.Mutex
	keys    map[string]*rsa.PublicKey
	expires time.Time // zero: never (a file)
	fetched time.Time
}

const (
	defaultKeyTTL = time.Hour
	maxKeyTTL     = 24 * time.Hour
	refetchGap    = 30 * time.Second
	maxJWKSBytes  = 1 << 20
)

func newKeySet(o *OIDC, client *http.Client) (*keySet, error) {
	ks := &keySet{url: o.JWKSURL, client: client}
	if o.JWKSFile != "" {
		b, err := os.ReadFile(o.JWKSFile)
		if err != nil {
			return nil, fmt.Errorf("jwks_file: %w", err)
		}
		if ks.keys, err = parseJWKS(b); err != nil {
			return nil, fmt.Errorf("jwks_file %s: %w", o.JWKSFile, err)
		}
	}
	return ks, nil
}

// key returns the key kid names. Unknown is ErrSignature; keys that cannot
// be fetched are ErrUpstream.
func (ks *keySet) key(ctx context.Context, kid string, now time.Time) (*rsa.PublicKey, error) {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	k, ok := ks.keys[kid]
	fresh := ks.url == "" || (ks.keys != nil && now.Before(ks.expires))
	if ok && fresh {
		return k, nil
	}
	if ks.url != "" && (!fresh || now.Sub(ks.fetched) >= refetchGap) {
		// Holding the lock while fetching makes concurrent requests wait
		// for one fetch rather than each making their own.
		if err := ks.fetch(ctx, now); err != nil {
			if ks.keys == nil {
				return nil, err
			}
			// Keep using the keys we have while the endpoint fails.
		}
		k, ok = ks.keys[kid]
	}
	if !ok {
		return nil, fmt.Errorf("%w: no signing key %q", webhook.ErrSignature, kid)
	}
	return k, nil
}

func (ks *keySet) fetch(ctx context.Context, now time.Time) error {
	ks.fetched = now
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ks.url, nil)
	if err != nil {
		return fmt.Errorf("%w: signing keys: %v", webhook.ErrUpstream, err)
	}
	res, err := ks.client.Do(req)
	if err != nil {
		return fmt.Errorf("%w: signing keys: %v", webhook.ErrUpstream, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("%w: signing keys: %s answered %d", webhook.ErrUpstream, ks.url, res.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(res.Body, maxJWKSBytes))
	if err != nil {
		return fmt.Errorf("%w: signing keys: %v", webhook.ErrUpstream, err)
	}
	keys, err := parseJWKS(b)
	if err != nil {
		return fmt.Errorf("%w: signing keys: %v", webhook.ErrUpstream, err)
	}
	ks.keys = keys
	ks.expires = now.Add(maxAge(res.Header.Get("Cache-Control")))
	return nil
}

// maxAge reads max-age from Cache-Control, within (0, maxKeyTTL].
func maxAge(cc string) time.Duration {
	for _, d := range strings.Split(cc, ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(d), "max-age="); ok {
			if n, err := strconv.Atoi(v); err == nil && n > 0 {
				return min(time.Duration(n)*time.Second, maxKeyTTL)
			}
		}
	}
	return defaultKeyTTL
}

// parseJWKS reads the RSA signing keys of a JSON Web Key Set (RFC 7517);
// other keys are skipped. RSA keys under 2048 bits are refused.
func parseJWKS(b []byte) (map[string]*rsa.PublicKey, error) {
	var set struct {
		Keys []struct {
			Kty string `json:"kty"`
			Kid string `json:"kid"`
			Use string `json:"use"`
			N   string `json:"n"`
			E   string `json:"e"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(b, &set); err != nil {
		return nil, fmt.Errorf("not a JWKS: %w", err)
	}
	out := map[string]*rsa.PublicKey{}
	for _, k := range set.Keys {
		if k.Kty != "RSA" || k.Kid == "" || (k.Use != "" && k.Use != "sig") {
			continue
		}
		n, err1 := base64.RawURLEncoding.DecodeString(strings.TrimRight(k.N, "="))
		e, err2 := base64.RawURLEncoding.DecodeString(strings.TrimRight(k.E, "="))
		if err1 != nil || err2 != nil || len(e) == 0 || len(e) > 4 {
			return nil, fmt.Errorf("key %q: bad n or e", k.Kid)
		}
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		if pub.N.BitLen() < 2048 || pub.E < 3 || pub.E%2 == 0 {
			return nil, fmt.Errorf("key %q: RSA keys must have at least 2048 bits and an odd exponent", k.Kid)
		}
		out[k.Kid] = pub
	}
	if len(out) == 0 {
		return nil, errors.New("no RSA signing key in the set")
	}
	return out, nil
}
