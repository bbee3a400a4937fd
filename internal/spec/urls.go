package spec

import (
	"errors"
	"net/url"
)

// CheckUserinfo adds a problem to p when u holds user information
// (user:password@ or token@). A URL is shown by the API, by describe, in
// logs and in dead-letter errors; credentials belong in the secret field
// that hint names (which may be a ${secret:NAME} reference).
func CheckUserinfo(p Problems, u *url.URL, hint string) {
	if u != nil && u.User != nil {
		p.Add("must not hold a user name or password (user:password@host): URLs are shown by the API and in logs; put credentials in %s", hint)
	}
}

// URLParseError is a url.Parse error without the URL it quotes (which
// may hold a password), for a problem's reason.
func URLParseError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
