package connector

import (
	"net/url"

	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

// ValidateHTTPURL reports under field a URL a connector calls (the http
// target's, the poll source's) that is missing, not an http:// or
// https:// URL with a host, or holds credentials (they belong in auth or
// headers).
func ValidateHTTPURL(p spec.Problems, field, raw string) {
	u, err := url.Parse(raw)
	switch {
	case raw == "":
		p.AddAt(field, "required")
	case err != nil:
		p.AddAt(field, "not a URL: %v", spec.URLParseError(err))
	case u.Scheme != "http" && u.Scheme != "https":
		p.AddAt(field, "must be an http:// or https:// URL")
	case u.Host == "":
		p.AddAt(field, "must name a host")
	default:
		spec.CheckUserinfo(p.At(field), u, "auth (auth.basic.password, auth.bearer) or headers")
	}
}
