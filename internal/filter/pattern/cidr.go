package pattern

import (
	"net/netip"
	"strconv"
	"strings"
)

// ipRange is an inclusive range of addresses of one family. As in Event
// Ruler, a CIDR's bottom is the address as written (host bits are not
// cleared) and its top is that address with every host bit set.
type ipRange struct {
	lo, hi netip.Addr
}

func (r ipRange) contains(a netip.Addr) bool {
	return a.BitLen() == r.lo.BitLen() && r.lo.Compare(a) <= 0 && a.Compare(r.hi) <= 0
}

// parseIP reads an IPv4 or IPv6 address literal the way Event Ruler does: it
// must look like dotted decimal ("1.2.3.4") or like hex and colons (IPv6
// without an embedded IPv4 part or zone); an IPv4-mapped IPv6 address is the
// IPv4 address.
func parseIP(s string) (netip.Addr, bool) {
	if !looksLikeIPv4(s) && !looksLikeIPv6(s) {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

func looksLikeIPv4(s string) bool {
	parts := 0
	run := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			run++
		case c == '.':
			if run == 0 {
				return false
			}
			parts++
			run = 0
		default:
			return false
		}
	}
	return parts == 3 && run > 0
}

func looksLikeIPv6(s string) bool {
	colon := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ':':
			colon = true
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f', c >= 'A' && c <= 'F':
		default:
			return false
		}
	}
	return colon
}

// parseCIDR reads "address/bits". Like Event Ruler, it refuses /32 for IPv4
// and /128 for IPv6 (write the address itself as an exact value instead).
func parseCIDR(s string) (ipRange, string) {
	parts := strings.Split(s, "/")
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	if len(parts) != 2 {
		return ipRange{}, "malformed CIDR, one '/' required"
	}
	bits, err := strconv.Atoi(parts[1])
	if err != nil {
		return ipRange{}, "malformed CIDR, mask bits must be an integer"
	}
	if bits < 0 {
		return ipRange{}, "malformed CIDR, mask bits must not be negative"
	}
	a, ok := parseIP(parts[0])
	if !ok {
		return ipRange{}, "invalid IP address " + strconv.Quote(parts[0])
	}
	if a.Is4() && bits > 31 {
		return ipRange{}, "IPv4 mask bits must be < 32"
	}
	if a.Is6() && bits > 127 {
		return ipRange{}, "IPv6 mask bits must be < 128"
	}
	b := a.AsSlice()
	host := len(b)*8 - bits
	for i := len(b) - 1; i >= 0 && host > 0; i-- {
		if host >= 8 {
			b[i] = 0xff
		} else {
			b[i] |= byte(1<<host - 1)
		}
		host -= 8
	}
	hi, _ := netip.AddrFromSlice(b)
	return ipRange{lo: a, hi: hi}, ""
}
