// Package credential holds the types of the API's credentials, shared by
// the config file and the API.
package credential

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

// Scope is what a credential may do. Each scope includes the ones before
// it: read (GET), write (change resources), admin (everything, including
// purging dead letters and changing log levels).
type Scope string

// The scopes.
const (
	ScopeRead  Scope = "read"
	ScopeWrite Scope = "write"
	ScopeAdmin Scope = "admin"
)

// Rank orders scopes: read 1, write 2, admin 3, anything else 0.
func (s Scope) Rank() int {
	switch s {
	case ScopeRead:
		return 1
	case ScopeWrite:
		return 2
	case ScopeAdmin:
		return 3
	}
	return 0
}

// Token is a named bearer token of the API (api.tokens in the config).
type Token struct {
	// Token is the value, usually a reference: ${env:NAME} or ${file:PATH}.
	Token spec.Secret `json:"token,omitempty"`
	// SHA256 is the hex SHA-256 of the value, to keep only a hash in the file.
	SHA256 string `json:"sha256,omitempty"`
	// Scopes the token grants: read, write, admin.
	Scopes []Scope `json:"scopes"`
}

// Validate reports problems under p.
func (t *Token) Validate(p spec.Problems) {
	switch {
	case t.Token == "" && t.SHA256 == "":
		p.Add("set token or sha256")
	case t.Token != "" && t.SHA256 != "":
		p.Add("set token or sha256, not both")
	case t.SHA256 != "":
		if b, err := hex.DecodeString(t.SHA256); err != nil || len(b) != sha256.Size {
			p.AddAt("sha256", "must be 64 hex digits (sha256sum of the token)")
		}
	case len(t.Token.Value()) < 16:
		p.AddAt("token", "must be at least 16 characters")
	}
	if len(t.Scopes) == 0 {
		p.AddAt("scopes", "required: read, write or admin")
	}
	for i, s := range t.Scopes {
		if s.Rank() == 0 {
			p.At("scopes").Index(i).Add("unknown scope %q: read, write or admin", s)
		}
	}
}
