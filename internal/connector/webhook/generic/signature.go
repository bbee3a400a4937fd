package generic

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/connector/webhook"
)

// Verify checks the request's signature as h describes it, and returns
// the signature that matched (for the replay guard).
func (h *HMAC) Verify(hd http.Header, body []byte, now time.Time) (string, error) {
	var sigs []string
	for _, v := range hd.Values(h.Header) {
		for _, s := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' }) {
			if rest, ok := strings.CutPrefix(s, h.Prefix); ok && rest != "" {
				sigs = append(sigs, rest)
			}
		}
	}
	if len(sigs) == 0 {
		if len(hd.Values(h.Header)) == 0 {
			return "", fmt.Errorf("%w: the %s header is missing", webhook.ErrMissing, h.Header)
		}
		return "", fmt.Errorf("%w: %s holds no signature with the prefix %q", webhook.ErrSignature, h.Header, h.Prefix)
	}
	var ts string
	if h.TimestampHeader != "" {
		ts = hd.Get(h.TimestampHeader)
		if ts == "" {
			return "", fmt.Errorf("%w: the %s header is missing", webhook.ErrMissing, h.TimestampHeader)
		}
	}
	if err := webhook.VerifyHMAC(h.Algorithm.New(), []byte(h.Secret.Value()), h.Encoding, sigs, h.signed(ts, body)...); err != nil {
		return "", err
	}
	if h.TimestampHeader != "" {
		t, err := webhook.ParseUnix(ts)
		if err != nil {
			return "", err
		}
		if err := webhook.CheckTimestamp(now, t, h.Tolerance.D()); err != nil {
			return "", err
		}
	}
	return h.Header + ":" + strings.Join(sigs, ","), nil
}

// signed returns the parts of the signed payload: the template with
// {timestamp} and {body} filled in.
func (h *HMAC) signed(ts string, body []byte) [][]byte {
	var parts [][]byte
	rest := h.Payload
	for rest != "" {
		i := strings.IndexByte(rest, '{')
		switch {
		case i < 0:
			parts = append(parts, []byte(rest))
			rest = ""
		case strings.HasPrefix(rest[i:], "{body}"):
			parts = append(parts, []byte(rest[:i]), body)
			rest = rest[i+len("{body}"):]
		case strings.HasPrefix(rest[i:], "{timestamp}"):
			parts = append(parts, []byte(rest[:i]+ts))
			rest = rest[i+len("{timestamp}"):]
		default:
			parts = append(parts, []byte(rest[:i+1]))
			rest = rest[i+1:]
		}
	}
	return parts
}
