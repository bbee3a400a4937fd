package httpauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ErrToken is wrapped by every failure to obtain an OAuth2 token.
var ErrToken = errors.New("oauth2 token")

// maxEarly is the most a token is refreshed before it expires.
const maxEarly = time.Minute

// tokenSource caches a client-credentials token and fetches a new one
// shortly before it expires: a fifth of its lifetime early, at most a
// minute, so that no request goes out with a token about to lapse.
type tokenSource struct {
	cfg    *OAuth2
	client *http.Client
	now    func() time.Time

	sem       chan struct{} // one fetch at a time; waiting honours ctx
	token     string
	refreshAt time.Time // zero: no expiry was given
}

func newTokenSource(c *OAuth2, o options) *tokenSource {
	return &tokenSource{cfg: c, client: o.client, now: o.now, sem: make(chan struct{}, 1)}
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

// tokenResponse is RFC 6749 §5.1 (and §5.2 for errors).
type tokenResponse struct {
	AccessToken string          `json:"access_token"`
	TokenType   string          `json:"token_type"`
	ExpiresIn   json.RawMessage `json:"expires_in"` // a number, or a string from some servers
	Error       string          `json:"error"`
	Description string          `json:"error_description"`
}

func (s *tokenSource) fetch(ctx context.Context) (string, time.Duration, error) {
	form := url.Values{"grant_type": {"client_credentials"}}
	if len(s.cfg.Scopes) > 0 {
		form.Set("scope", strings.Join(s.cfg.Scopes, " "))
	}
	for k, v := range s.cfg.Params {
		form.Set(k, v)
	}
	if s.cfg.ClientAuth == "body" {
		form.Set("client_id", s.cfg.ClientID)
		form.Set("client_secret", s.cfg.ClientSecret.Value())
	}
	if s.cfg.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.cfg.Timeout.D())
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", 0, fmt.Errorf("%w: %w", ErrToken, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if s.cfg.ClientAuth != "body" {
		req.SetBasicAuth(url.QueryEscape(s.cfg.ClientID), url.QueryEscape(s.cfg.ClientSecret.Value()))
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return "", 0, fmt.Errorf("%w: %w", ErrToken, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", 0, fmt.Errorf("%w: read: %w", ErrToken, err)
	}
	var tr tokenResponse
	jerr := json.Unmarshal(body, &tr)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		msg := strings.TrimSpace(string(body))
		if jerr == nil && tr.Error != "" {
			msg = strings.TrimSpace(tr.Error + ": " + tr.Description)
		}
		if len(msg) > 200 {
			msg = msg[:200]
		}
		return "", 0, fmt.Errorf("%w: %s answered HTTP %d: %s", ErrToken, s.cfg.TokenURL, resp.StatusCode, msg)
	}
	if jerr != nil {
		return "", 0, fmt.Errorf("%w: the answer is not JSON: %w", ErrToken, jerr)
	}
	if tr.AccessToken == "" {
		return "", 0, fmt.Errorf("%w: the answer has no access_token", ErrToken)
	}
	var life time.Duration
	if raw := strings.Trim(string(tr.ExpiresIn), `"`); raw != "" && raw != "null" {
		n, err := strconv.ParseFloat(raw, 64)
		if err != nil || n < 0 {
			return "", 0, fmt.Errorf("%w: expires_in %s is not a number of seconds", ErrToken, tr.ExpiresIn)
		}
		life = time.Duration(n * float64(time.Second))
	}
	return tr.AccessToken, life, nil
}
