// Package netguard keeps outgoing connections whose addresses API callers
// set (targets, poll sources, token and introspection endpoints,
// subscription sinks) away from addresses they should not reach: loopback,
// link-local (cloud metadata services live there), private, shared,
// multicast, broadcast and unspecified addresses, and the IPv6 forms that
// embed such an IPv4 address. It checks literal addresses when a resource
// is registered (so the caller gets a clear error) and every connection
// when it is made (the address actually dialled, after DNS and after
// redirects), so DNS cannot be switched in between.
package netguard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// ErrForbidden is wrapped by errors about forbidden addresses.
var ErrForbidden = errors.New("address not allowed")

var (
	cgnat          = netip.MustParsePrefix("100.64.0.0/10")
	thisNetwork    = netip.MustParsePrefix("0.0.0.0/8")
	ietfProtocol   = netip.MustParsePrefix("192.0.0.0/24") // Oracle Cloud's metadata service is 192.0.0.192
	reserved4      = netip.MustParsePrefix("240.0.0.0/4")  // 255.255.255.255 (broadcast) included
	v4Compatible   = netip.MustParsePrefix("::/96")
	v4Translated   = netip.MustParsePrefix("::ffff:0:0:0/96")
	nat64          = netip.MustParsePrefix("64:ff9b::/96")
	nat64Local     = netip.MustParsePrefix("64:ff9b:1::/48")
	sixToFour      = netip.MustParsePrefix("2002::/16")
	teredo         = netip.MustParsePrefix("2001::/32")
	siteLocal      = netip.MustParsePrefix("fec0::/10")
	broadcast      = netip.MustParseAddr("255.255.255.255")
	embeddedReason = "%s embedding %s, %s"
)

// Forbidden reports why ip may not be reached, or "" when it may.
func Forbidden(ip netip.Addr) string {
	ip = ip.WithZone("")
	if !ip.IsValid() {
		return "invalid address"
	}
	if ip.Is4In6() {
		if why := forbidden4(ip.Unmap()); why != "" {
			return fmt.Sprintf(embeddedReason, "IPv4-mapped address", ip.Unmap(), withArticle(why))
		}
		return ""
	}
	if ip.Is4() {
		return forbidden4(ip)
	}
	switch {
	case ip.IsUnspecified():
		return "unspecified address"
	case ip.IsLoopback():
		return "loopback address"
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast():
		return "link-local address"
	case ip.IsPrivate(), siteLocal.Contains(ip):
		return "private address"
	case ip.IsMulticast(), ip.IsInterfaceLocalMulticast():
		return "multicast address"
	case v4Compatible.Contains(ip):
		// Deprecated (RFC 4291 §2.5.5.1) and never needed: refused whatever
		// it embeds, since stacks differ on where they send it.
		return fmt.Sprintf("IPv4-compatible address (deprecated) embedding %s", v4At(ip, 12))
	case v4Translated.Contains(ip):
		return embedded(ip, "IPv4-translated address", v4At(ip, 12), true)
	case nat64Local.Contains(ip):
		return "local-use NAT64 address"
	case nat64.Contains(ip):
		return embedded(ip, "NAT64 address", v4At(ip, 12), false)
	case sixToFour.Contains(ip):
		return embedded(ip, "6to4 address", v4At(ip, 2), false)
	case teredo.Contains(ip):
		// The client's address is the last 32 bits, inverted (RFC 4380 §4).
		b := ip.As16()
		client := netip.AddrFrom4([4]byte{^b[12], ^b[13], ^b[14], ^b[15]})
		if why := embedded(ip, "Teredo address", client, false); why != "" {
			return why
		}
		return embedded(ip, "Teredo address", v4At(ip, 4), false)
	}
	return ""
}

// embedded is the reason an IPv6 address embedding v4 is refused: v4's,
// or always when strict.
func embedded(ip netip.Addr, form string, v4 netip.Addr, strict bool) string {
	if why := forbidden4(v4); why != "" {
		return fmt.Sprintf(embeddedReason, form, v4, withArticle(why))
	}
	if strict {
		return form
	}
	return ""
}

// withArticle puts "a" or "an" before a reason of Forbidden. Spelling
// decides, which is right for every reason there is ("an IPv4-mapped",
// "an unspecified", "a 6to4", "a NAT64" read as "nat"); a reason that is
// said otherwise than spelt ("unicast") would need its own case.
func withArticle(s string) string {
	if s != "" && strings.ContainsRune("aeiouAEIOU", rune(s[0])) {
		return "an " + s
	}
	return "a " + s
}

func v4At(ip netip.Addr, at int) netip.Addr {
	b := ip.As16()
	return netip.AddrFrom4([4]byte{b[at], b[at+1], b[at+2], b[at+3]})
}

func forbidden4(ip netip.Addr) string {
	switch {
	case ip.IsUnspecified(), thisNetwork.Contains(ip):
		return "unspecified address"
	case ip.IsLoopback():
		return "loopback address"
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast():
		return "link-local address"
	case ip.IsPrivate():
		return "private address"
	case ip.IsMulticast():
		return "multicast address"
	case ip == broadcast:
		return "broadcast address"
	case reserved4.Contains(ip):
		return "reserved address"
	case cgnat.Contains(ip):
		return "shared (carrier-grade NAT) address"
	case ietfProtocol.Contains(ip):
		return "special-purpose address"
	}
	return ""
}

// Guard decides which addresses outgoing connections may reach. A nil
// *Guard allows every address: it is what resources the operator trusts
// (those of the config file, or all of them with
// api.allow_private_addresses) get. Safe for concurrent use.
type Guard struct {
	// Allow, when set, lets through the addresses it returns true for
	// although Forbidden refuses them. Tests use it to reach one loopback
	// server while another stays forbidden.
	Allow func(netip.AddrPort) bool
}

// AllowOnly returns a guard that makes an exception for the given
// addresses ("127.0.0.1:8080", what a loopback test server listens on)
// and refuses every other forbidden address. For tests.
func AllowOnly(addrs ...string) *Guard {
	ok := map[netip.AddrPort]bool{}
	for _, a := range addrs {
		ok[netip.MustParseAddrPort(a)] = true
	}
	return &Guard{Allow: func(ap netip.AddrPort) bool { return ok[netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())] }}
}

// Strict is the guard that allows no exception.
var Strict = &Guard{}

// CheckAddr fails, wrapping ErrForbidden, when ap may not be reached.
func (g *Guard) CheckAddr(ap netip.AddrPort) error {
	if g == nil {
		return nil
	}
	why := Forbidden(ap.Addr())
	if why == "" || g.Allow != nil && g.Allow(ap) {
		return nil
	}
	return fmt.Errorf("%w: %s is %s", ErrForbidden, ap.Addr(), withArticle(why))
}

// Control is a net.Dialer Control function that refuses to connect to a
// forbidden address (the address actually dialled, after DNS).
func (g *Guard) Control(_, address string, _ syscall.RawConn) error {
	if g == nil {
		return nil
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s is not an IP address and port", ErrForbidden, address)
	}
	return g.CheckAddr(ap)
}

// Dialer returns d (a new Dialer when nil) with the guard's Control; with
// a nil guard, d unchanged. A Control d had already runs first.
func (g *Guard) Dialer(d *net.Dialer) *net.Dialer {
	if d == nil {
		d = &net.Dialer{}
	}
	if g == nil {
		return d
	}
	cp := *d
	if prev := d.Control; prev != nil {
		cp.Control = func(network, address string, c syscall.RawConn) error {
			if err := prev(network, address, c); err != nil {
				return err
			}
			return g.Control(network, address, c)
		}
	} else {
		cp.Control = g.Control
	}
	cp.ControlContext = nil
	return &cp
}

// DialContext dials like a net.Dialer with the guard's Control.
func (g *Guard) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	return g.Dialer(nil).DialContext(ctx, network, address)
}

// Transport returns an HTTP transport whose connections are held to the
// guard and that uses no proxy (a proxy would connect on our behalf); nil
// (the default transport) with a nil guard.
func (g *Guard) Transport() http.RoundTripper {
	if g == nil {
		return nil
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	tr.DialContext = g.Dialer(&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	return tr
}

// Control is Strict.Control.
func Control(network, address string, c syscall.RawConn) error {
	return Strict.Control(network, address, c)
}

// CheckLiteral fails, wrapping ErrForbidden, when the host named in value
// is a forbidden IP address written out. value is a URL
// (scheme://host:port/…), host:port, [v6]:port or a bare host. Names are
// not looked up: that happens, and is checked, when connecting.
func (g *Guard) CheckLiteral(value string) error {
	if g == nil {
		return nil
	}
	host := hostOf(value)
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return nil
	}
	if why := Forbidden(ip); why != "" && (g.Allow == nil || !g.Allow(netip.AddrPortFrom(ip, portOf(value)))) {
		return fmt.Errorf("%w: %s is %s", ErrForbidden, host, withArticle(why))
	}
	return nil
}

// hostOf is the host part of a URL, host:port or host.
func hostOf(value string) string {
	value = strings.TrimSpace(value)
	if i := strings.Index(value, "://"); i >= 0 {
		if u, err := url.Parse(value); err == nil && u.Host != "" {
			return u.Hostname()
		}
		value = value[i+3:] // gRPC's dns:///host:port, or unparsable
		value = strings.TrimPrefix(value, "/")
		if j := strings.IndexAny(value, "/?#"); j >= 0 {
			value = value[:j]
		}
		if j := strings.LastIndex(value, "@"); j >= 0 {
			value = value[j+1:]
		}
	}
	if h, _, err := net.SplitHostPort(value); err == nil {
		return h
	}
	return strings.TrimSuffix(strings.TrimPrefix(value, "["), "]")
}

// portOf is the port in value, or 0.
func portOf(value string) uint16 {
	if u, err := url.Parse(value); err == nil && u.Host != "" {
		value = u.Host
	}
	_, p, err := net.SplitHostPort(value)
	if err != nil {
		return 0
	}
	var n uint16
	_, _ = fmt.Sscan(p, &n)
	return n
}

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
			return fmt.Errorf("%w: %s is %s", ErrForbidden, host, withArticle(why))
		}
		return nil
	}
	addrs, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return fmt.Errorf("cannot resolve %s: %w", host, err)
	}
	for _, ip := range addrs {
		if why := Forbidden(ip); why != "" {
			return fmt.Errorf("%w: %s resolves to %s, %s", ErrForbidden, host, ip, withArticle(why))
		}
	}
	return nil
}
