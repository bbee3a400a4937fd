package webhook

import (
	"crypto/hmac"
	"crypto/sha1" // generic webhooks may sign with HMAC-SHA1, still sound as a MAC
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"
)

// Hash names an HMAC hash function as configs write it.
type Hash string

// The hashes webhooks sign with.
const (
	SHA1   Hash = "sha1"
	SHA256 Hash = "sha256"
	SHA512 Hash = "sha512"
)

// New returns the hash constructor, or nil for an unknown name.
func (h Hash) New() func() hash.Hash {
	switch h {
	case SHA1:
		return sha1.New
	case SHA256:
		return sha256.New
	case SHA512:
		return sha512.New
	}
	return nil
}

// Encoding is how a signature is written in its header.
type Encoding string

// The encodings.
const (
	Hex    Encoding = "hex"
	Base64 Encoding = "base64"
)

// Sign returns HMAC(key, parts joined) with the hash h.
func Sign(h func() hash.Hash, key []byte, parts ...[]byte) []byte {
	m := hmac.New(h, key)
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

// Decode reads a signature written in enc. Hex is case-insensitive;
// base64 may be standard or URL-safe, padded or not.
func Decode(enc Encoding, s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	switch enc {
	case Hex:
		return hex.DecodeString(s)
	case Base64:
		s = strings.TrimRight(s, "=")
		if strings.ContainsAny(s, "-_") {
			return base64.RawURLEncoding.DecodeString(s)
		}
		return base64.RawStdEncoding.DecodeString(s)
	}
	return nil, fmt.Errorf("unknown encoding %q", enc)
}

// VerifyHMAC checks that one of sigs (encoded in enc) is HMAC(key, parts)
// with h. Each comparison is constant-time. No signature is ErrMissing; a
// signature that does not decode or match is ErrSignature.
func VerifyHMAC(h func() hash.Hash, key []byte, enc Encoding, sigs []string, parts ...[]byte) error {
	if len(sigs) == 0 {
		return ErrMissing
	}
	want := Sign(h, key, parts...)
	ok := false
	for _, s := range sigs {
		got, err := Decode(enc, s)
		if err != nil {
			continue
		}
		// Every candidate is compared, so the time taken does not tell
		// which one matched.
		if hmac.Equal(got, want) {
			ok = true
		}
	}
	if !ok {
		return ErrSignature
	}
	return nil
}
