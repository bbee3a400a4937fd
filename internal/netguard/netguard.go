// Package netguard keeps outgoing connections whose addresses API callers
// set away from addresses they should not reach (loopback, link-local,
// private...). It is public, in pkg/netguard, so that connectors built
// outside this module can apply the bridge's guard; the names here are
// aliases of it.
package netguard

import (
	"context"
	"net/netip"
	"syscall"

	pub "github.com/eventbridge-dev/eventbridge/pkg/netguard"
)

// ErrForbidden is wrapped by errors about forbidden addresses.
var ErrForbidden = pub.ErrForbidden

// Guard checks the addresses connections are made to; see pkg/netguard.
type Guard = pub.Guard

// Resolver looks up host names; see pkg/netguard.
type Resolver = pub.Resolver

// Strict is the guard that allows no exception.
var Strict = pub.Strict

// Forbidden returns why ip may not be reached, or "" when it may.
func Forbidden(ip netip.Addr) string { return pub.Forbidden(ip) }

// AllowOnly returns a guard that also allows the given addresses.
func AllowOnly(addrs ...string) *Guard { return pub.AllowOnly(addrs...) }

// Control is a net.Dialer Control function applying Strict.
func Control(network, address string, c syscall.RawConn) error {
	return pub.Control(network, address, c)
}

// CheckHost resolves host with r and fails if any address is forbidden.
func CheckHost(ctx context.Context, r Resolver, host string) error {
	return pub.CheckHost(ctx, r, host)
}
