package connector

import (
	"net/url"
	"strings"

	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

// ValidateURL checks a broker URL option (field) of a connector config:
// a URL of one of schemes, with a host, and no password in it (passwords
// belong in a secret option, so that the API and logs never show them).
func ValidateURL(p spec.Problems, field, raw string, schemes ...string) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		p.AddAt(field, "not a URL: %v", spec.URLParseError(err))
	case !contains(schemes, u.Scheme):
		p.AddAt(field, "must be a %s:// URL", strings.Join(schemes, ":// or "))
	case u.Host == "":
		p.AddAt(field, "must name a host")
	default:
		if _, ok := u.User.Password(); ok {
			p.AddAt(field, "holds a password: put it in password (which may be a ${secret:NAME} reference)")
		}
	}
}

// Redact returns a URL without its user information, for logs.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(bad url)"
	}
	u.User = nil
	return u.String()
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
