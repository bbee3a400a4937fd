package httpauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// ErrToken is wrapped by every failure to obtain an OAuth2 token.
var ErrToken = errors.New("oauth2 token")

// maxEarly is the most a token is refreshed before it expires.
const maxEarly = time.Minute

// tokenSource caches a client-credentials token (fetched with
// golang.org/x/oauth2/clientcredentials) and fetches a new one
// shortly before it expires: a fifth of its lifetime early, at most a
// minute, so that no request goes out with a token about to lapse.
type tokenSource struct {
	cfg    *OAuth2
	conf   *clientcredentials.Config
	client *http.Client
	now    func() time.Time

	sem       chan struct{} // one fetch at a time; waiting honours ctx
	token     string
	refreshAt time.Time // zero: no expiry was given
}

func newTokenSource(c *OAuth2, o options) *tokenSource {
	return &tokenSource{cfg: c, conf: clientCredentials(c), client: o.client, now: o.now, sem: make(chan struct{}, 1)}
}

// Apply implements Authenticator.
func (s *tokenSource) Apply(ctx context.Context, r *http.Request) error {
	tok, err := s.get(ctx)
	if err != nil {
		return err
	}
	r.Header.Set("Authorization", "Bearer "+tok)
	return nil
}

// Reject implements Authenticator.
func (s *tokenSource) Reject() bool {
	select {
	case s.sem <- struct{}{}:
		s.token = ""
		<-s.sem
	default:
		// A fetch is under way: it brings a new token anyway.
	}
	return true
}

func (s *tokenSource) get(ctx context.Context) (string, error) {
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return "", fmt.Errorf("%w: %w", ErrToken, ctx.Err())
	}
	defer func() { <-s.sem }()
	if s.token != "" && (s.refreshAt.IsZero() || s.now().Before(s.refreshAt)) {
		return s.token, nil
	}
	tok, life, err := s.fetch(ctx)
	if err != nil {
		return "", err
	}
	s.token, s.refreshAt = tok, time.Time{}
	if life > 0 {
		s.refreshAt = s.now().Add(life - min(life/5, maxEarly))
	}
	return tok, nil
}

// fetch asks the token endpoint for a token with the client credentials
// grant (golang.org/x/oauth2/clientcredentials), through s.client: the
// client the caller gave, with its SSRF guard and no proxy. It returns the
// token and its lifetime (0: none given). Errors wrap ErrToken and never
// show the client secret.
func (s *tokenSource) fetch(ctx context.Context) (string, time.Duration, error) {
	if s.cfg.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.cfg.Timeout.D())
		defer cancel()
	}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, s.client)
	tok, err := s.conf.Token(ctx)
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil {
			msg := strings.TrimSpace(string(re.Body))
			if re.ErrorCode != "" {
				msg = strings.TrimSpace(re.ErrorCode + ": " + re.ErrorDescription)
			}
			if len(msg) > 200 {
				msg = msg[:200]
			}
			return "", 0, fmt.Errorf("%w: %s answered HTTP %d: %s", ErrToken, s.cfg.TokenURL, re.Response.StatusCode, msg)
		}
		return "", 0, fmt.Errorf("%w: %w", ErrToken, err)
	}
	var life time.Duration
	switch {
	case tok.ExpiresIn > 0:
		life = time.Duration(tok.ExpiresIn) * time.Second
	case !tok.Expiry.IsZero():
		life = time.Until(tok.Expiry)
	}
	return tok.AccessToken, life, nil
}

// clientCredentials is the x/oauth2 configuration of c. The client
// authenticates as c.ClientAuth says, never by trying both (auto-detection
// would send the secret in the body after a refusal in the header).
func clientCredentials(c *OAuth2) *clientcredentials.Config {
	params := url.Values{}
	for k, v := range c.Params {
		params.Set(k, v)
	}
	scopes := c.Scopes
	if _, ok := params["scope"]; ok {
		scopes = nil // params win, as they always did
	}
	style := oauth2.AuthStyleInHeader
	if c.ClientAuth == "body" {
		style = oauth2.AuthStyleInParams
	}
	return &clientcredentials.Config{
		ClientID: c.ClientID, ClientSecret: c.ClientSecret.Value(), TokenURL: c.TokenURL,
		Scopes: scopes, EndpointParams: params, AuthStyle: style,
	}
}
