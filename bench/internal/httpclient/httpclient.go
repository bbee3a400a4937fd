// Package httpclient builds the HTTP client every benchmark program uses to
// talk to one loopback host.
package httpclient

import (
	"net"
	"net/http"
	"time"
)

// New returns an HTTP/1.1 client for conns concurrent requests to one host:
// enough idle connections that none is closed and reopened under load, no
// proxy, no compression.
func New(conns int, timeout time.Duration) *http.Client {
	idle := max(conns, 1) * 2
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			Proxy: nil,
			DialContext: (&net.Dialer{
				Timeout:   5 * time.Second,
				KeepAlive: 30 * time.Second,
			}).DialContext,
			MaxIdleConns:        idle,
			MaxIdleConnsPerHost: idle,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
			ForceAttemptHTTP2:   false,
		},
	}
}
