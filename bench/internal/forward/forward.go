// Package forward is the benchmark's baseline middlebox: a plain net/http
// server that forwards each POST synchronously to one target and answers
// with the target's status. Any bridge pays at least this much.
package forward

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
)

// Forwarder forwards CloudEvents in any HTTP mode: it copies the body, the
// ce-* headers and Content-Type. It is safe for concurrent use.
type Forwarder struct {
	// Target is the URL every request is posted to.
	Target string
	// Client sends the forwarded requests.
	Client *http.Client
}

// ServeHTTP forwards r and answers with the target's status, or 502 Bad
// Gateway when the target cannot be reached.
func (f *Forwarder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	h := http.Header{}
	for k, v := range r.Header {
		if strings.HasPrefix(k, "Ce-") || k == "Content-Type" {
			h[k] = v
		}
	}
	status, err := Post(r.Context(), f.Client, f.Target, h, body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	w.WriteHeader(status)
}

// Post posts body with header h to url and returns the answer's status. It
// reads the whole answer, so that the connection is reused.
func Post(ctx context.Context, c *http.Client, url string, h http.Header, body []byte) (int, error) {
	out, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	out.Header = h
	resp, err := c.Do(out)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

var _ http.Handler = (*Forwarder)(nil)
