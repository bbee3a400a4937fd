package webhook

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

// Equal compares a secret sent by a client with the configured one in
// constant time. Both are hashed first, so not even their lengths leak
// through the time taken.
func Equal(got string, want spec.Secret) bool {
	a := sha256.Sum256([]byte(got))
	b := sha256.Sum256([]byte(want.Value()))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1 && want.Value() != ""
}

// CheckToken checks a shared token sent in plain text: "" is ErrMissing,
// a wrong one ErrSignature.
func CheckToken(got string, want spec.Secret) error {
	if got == "" {
		return ErrMissing
	}
	if !Equal(got, want) {
		return ErrSignature
	}
	return nil
}

// BearerToken returns the token of an "Authorization: Bearer" header, or "".
func BearerToken(r *http.Request) string {
	a := r.Header.Get("Authorization")
	if len(a) > 7 && strings.EqualFold(a[:7], "bearer ") {
		return strings.TrimSpace(a[7:])
	}
	return ""
}

// CheckBearer checks the bearer token against a list of accepted tokens
// (each compared, in constant time).
func CheckBearer(r *http.Request, tokens []spec.Secret) error {
	tok := BearerToken(r)
	if tok == "" {
		return ErrMissing
	}
	ok := false
	for _, t := range tokens {
		if Equal(tok, t) {
			ok = true
		}
	}
	if !ok {
		return ErrSignature
	}
	return nil
}

// CheckBasic checks HTTP basic credentials.
func CheckBasic(r *http.Request, user string, pass spec.Secret) error {
	u, p, ok := r.BasicAuth()
	if !ok {
		return ErrMissing
	}
	// Both are compared whatever the first says.
	uok := Equal(u, spec.Secret(user))
	pok := Equal(p, pass)
	if !uok || !pok {
		return ErrSignature
	}
	return nil
}
