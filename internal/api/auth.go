package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"

	"github.com/eventbridge-dev/eventbridge/internal/api/credential"
	"github.com/eventbridge-dev/eventbridge/internal/api/problem"
)

// Scope and Token are defined in package credential, which the config
// file's types use too.
type (
	Scope = credential.Scope
	Token = credential.Token
)

// The scopes.
const (
	ScopeRead  = credential.ScopeRead
	ScopeWrite = credential.ScopeWrite
	ScopeAdmin = credential.ScopeAdmin
)

// Identity is who made a request.
type Identity struct {
	Name  string
	Scope Scope // the highest scope held
}

// Auth checks credentials. With no tokens and no client certificates
// configured, it lets loopback clients in with every scope and refuses
// others.
type Auth struct {
	tokens      []authToken
	certScope   Scope // scope of a verified client certificate; "" = none
	openLocally bool
}

type authToken struct {
	name  string
	hash  [sha256.Size]byte
	scope Scope
}

// NewAuth prepares the checks. tokens have had references expanded.
func NewAuth(tokens map[string]Token, certScopes []Scope) (*Auth, error) {
	a := &Auth{}
	names := make([]string, 0, len(tokens))
	for n := range tokens {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		t := tokens[n]
		at := authToken{name: n, scope: highest(t.Scopes)}
		if t.SHA256 != "" {
			b, err := hex.DecodeString(t.SHA256)
			if err != nil || len(b) != sha256.Size {
				return nil, fmt.Errorf("api.tokens.%s.sha256: not a SHA-256", n)
			}
			copy(at.hash[:], b)
		} else {
			at.hash = sha256.Sum256([]byte(t.Token.Value()))
		}
		a.tokens = append(a.tokens, at)
	}
	a.certScope = highest(certScopes)
	a.openLocally = len(a.tokens) == 0 && a.certScope == ""
	return a, nil
}

// Open reports whether the API runs without credentials (loopback only).
func (a *Auth) Open() bool { return a.openLocally }

func highest(scopes []Scope) Scope {
	var best Scope
	for _, s := range scopes {
		if s.Rank() > best.Rank() {
			best = s
		}
	}
	return best
}

// authenticate returns who is calling, or the problem to answer.
func (a *Auth) authenticate(r *http.Request) (Identity, *problem.Problem) {
	if a.openLocally {
		if isLoopback(r.RemoteAddr) {
			return Identity{Name: "local", Scope: ScopeAdmin}, nil
		}
		return Identity{}, problem.New(problem.Forbidden, "the API has no tokens configured (api.tokens), so it answers loopback clients only")
	}
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "bearer") || tok == "" {
			return Identity{}, problem.New(problem.Unauthorized, "use Authorization: Bearer <token>")
		}
		sum := sha256.Sum256([]byte(strings.TrimSpace(tok)))
		var found *authToken
		for i := range a.tokens {
			// Compare with every token, in constant time, whatever matches.
			if subtle.ConstantTimeCompare(sum[:], a.tokens[i].hash[:]) == 1 && found == nil {
				found = &a.tokens[i]
			}
		}
		if found == nil {
			return Identity{}, problem.New(problem.Unauthorized, "unknown token")
		}
		return Identity{Name: found.name, Scope: found.scope}, nil
	}
	if a.certScope != "" && r.TLS != nil && len(r.TLS.VerifiedChains) > 0 {
		return Identity{Name: "cert:" + r.TLS.VerifiedChains[0][0].Subject.CommonName, Scope: a.certScope}, nil
	}
	return Identity{}, problem.New(problem.Unauthorized, "this API needs a bearer token (Authorization: Bearer <token>)")
}

func isLoopback(remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// identity returns who made r (for checks beyond the route's scope).
func (a *API) identity(r *http.Request) (Identity, *problem.Problem) {
	if a.deps.Auth == nil {
		return Identity{Name: "test", Scope: ScopeAdmin}, nil
	}
	return a.deps.Auth.authenticate(r)
}

// scoped wraps a handler with authentication and a scope check.
func (a *API) scoped(need Scope, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if a.deps.Auth != nil {
			id, p := a.deps.Auth.authenticate(r)
			if p != nil {
				if p.Status == http.StatusUnauthorized {
					w.Header().Set("WWW-Authenticate", `Bearer realm="eventbridge"`)
				}
				p.Write(w, r)
				return
			}
			if id.Scope.Rank() < need.Rank() {
				problem.Write(w, r, problem.Forbidden, fmt.Sprintf("%s needs the %s scope; %s has %s", r.Method+" "+r.URL.Path, need, id.Name, id.Scope))
				return
			}
		}
		h(w, r)
	}
}

// Require wraps h with the API's authentication (tokens, client
// certificates, loopback-only when none) and a scope check, for listeners
// other than the main API's (the O-RAN API).
func (a *Auth) Require(need Scope, h http.Handler) http.Handler {
	return (&API{deps: Deps{Auth: a}}).scoped(need, h.ServeHTTP)
}
