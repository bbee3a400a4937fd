// Package netguard keeps outgoing connections that users register (sinks
// of subscriptions) away from addresses they should not reach: loopback,
// link-local (cloud metadata services live there), private and unspecified
// addresses. It checks names when they are registered and each connection
// when it is made, so DNS cannot be switched in between.
package netguard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
)

// ErrForbidden is wrapped by errors about forbidden addresses.
var ErrForbidden = errors.New("address not allowed")

// Forbidden reports why ip may not be reached, or "" when it may.
func Forbidden(ip netip.Addr) string {
	ip = ip.Unmap()
	switch {
	case !ip.IsValid():
		return "invalid address"
	case ip.IsUnspecified():
		return "unspecified address"
	case ip.IsLoopback():
		return "loopback address"
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast():
		return "link-local address"
	case ip.IsPrivate():
		return "private address"
	case ip.IsMulticast(), ip.IsInterfaceLocalMulticast():
		return "multicast address"
	}
	if cgnat.Contains(ip) {
		return "shared (carrier-grade NAT) address"
	}
	return ""
}

var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// Resolver looks names up; net.DefaultResolver by default, replaceable in
// tests.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// CheckHost resolves host (a name or an address) and fails if any of its
// addresses is forbidden.
func CheckHost(ctx context.Context, r Resolver, host string) error {
	if r == nil {
		r = net.DefaultResolver
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if why := Forbidden(ip); why != "" {
			return fmt.Errorf("%w: %s is a %s", ErrForbidden, host, why)
		}
		return nil
	}
	addrs, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return fmt.Errorf("cannot resolve %s: %w", host, err)
	}
	for _, ip := range addrs {
		if why := Forbidden(ip); why != "" {
			return fmt.Errorf("%w: %s resolves to %s, a %s", ErrForbidden, host, ip, why)
		}
	}
	return nil
}

// Control is a net.Dialer Control function that refuses to connect to a
// forbidden address (the address actually dialled, after DNS).
func Control(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrForbidden, address)
	}
	if why := Forbidden(ip); why != "" {
		return fmt.Errorf("%w: %s is a %s", ErrForbidden, host, why)
	}
	return nil
}
