// Package forward is the benchmark's baseline middlebox: a plain net/http
// server that forwards each POST synchronously to one target and answers
// with the target's status. Any bridge pays at least this much.
package forward

import (
	"bytes"
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
	out, err := http.NewRequestWithContext(r.Context(), http.MethodPost, f.Target, bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	for k, v := range r.Header {
		if strings.HasPrefix(k, "Ce-") || k == "Content-Type" {
			out.Header[k] = v
		}
	}
	resp, err := f.Client.Do(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	w.WriteHeader(resp.StatusCode)
}

var _ http.Handler = (*Forwarder)(nil)
