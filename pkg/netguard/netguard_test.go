package netguard

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"
)

type fakeResolver map[string][]netip.Addr

func (f fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := f[host]; ok {
		return a, nil
	}
	return nil, errors.New("no such host")
}

func TestForbidden(t *testing.T) {
	for _, c := range []struct {
		addr string
		why  string // a word of the reason; "" when allowed
	}{
		{"127.0.0.1", "loopback"},
		{"127.8.9.10", "loopback"},
		{"::1", "loopback"},
		{"169.254.169.254", "link-local"},
		{"fe80::1", "link-local"},
		{"fe80::1%eth0", "link-local"},
		{"10.1.2.3", "private"},
		{"192.168.0.1", "private"},
		{"172.16.0.1", "private"},
		{"fd00::1", "private"},
		{"fd00:ec2::254", "private"}, // AWS's IPv6 metadata service
		{"fec0::1", "private"},
		{"0.0.0.0", "unspecified"},
		{"0.1.2.3", "unspecified"},
		{"::", "unspecified"},
		{"100.64.0.1", "carrier-grade"},
		{"100.100.100.200", "carrier-grade"}, // Alibaba Cloud's metadata service
		{"192.0.0.192", "special-purpose"},   // Oracle Cloud's metadata service
		{"224.0.0.1", "link-local"},          // link-local multicast
		{"239.1.2.3", "multicast"},
		{"ff02::1", "link-local"},
		{"ff05::1", "multicast"},
		{"255.255.255.255", "broadcast"},
		{"240.0.0.1", "reserved"},
		// IPv4-mapped and IPv4-compatible forms.
		{"::ffff:127.0.0.1", "IPv4-mapped"},
		{"::ffff:10.0.0.1", "private"},
		{"::ffff:169.254.169.254", "link-local"},
		{"::127.0.0.1", "IPv4-compatible"},
		{"::10.0.0.1", "IPv4-compatible"},
		{"::8.8.8.8", "IPv4-compatible"},
		{"::ffff:0:127.0.0.1", "IPv4-translated"},
		// NAT64, 6to4 and Teredo embedding a forbidden address.
		{"64:ff9b::127.0.0.1", "NAT64"},
		{"64:ff9b::a9fe:a9fe", "link-local"},
		{"64:ff9b:1::1", "local-use NAT64"},
		{"2002:7f00:1::", "6to4"},
		{"2002:a00:1::1", "private"},
		{"2002:a9fe:a9fe::1", "link-local"},
		{"2001:0:4136:e378:8000:63bf:80ff:fffe", "Teredo"}, // client 127.0.0.1
		// Allowed.
		{"8.8.8.8", ""},
		{"93.184.216.34", ""},
		{"2001:4860:4860::8888", ""},
		{"::ffff:8.8.8.8", ""},
		{"64:ff9b::808:808", ""},
		{"2002:808:808::1", ""},
		{"2001:0:4136:e378:8000:63bf:f7f7:f7f7", ""}, // client 8.8.8.8
		{"100.128.0.1", ""},
		{"192.0.2.1", ""}, // documentation, yet routable as far as we care
	} {
		got := Forbidden(netip.MustParseAddr(c.addr))
		switch {
		case c.why == "" && got != "":
			t.Errorf("%s: forbidden (%s), want allowed", c.addr, got)
		case c.why != "" && !strings.Contains(got, c.why):
			t.Errorf("%s: reason %q, want one with %q", c.addr, got, c.why)
		}
	}
}

func TestCheckHost(t *testing.T) {
	r := fakeResolver{
		"evil.example":  {netip.MustParseAddr("127.0.0.1")},
		"mixed.example": {netip.MustParseAddr("93.184.216.34"), netip.MustParseAddr("10.0.0.1")},
		"good.example":  {netip.MustParseAddr("93.184.216.34")},
	}
	for host, wantErr := range map[string]bool{"evil.example": true, "mixed.example": true, "good.example": false, "169.254.169.254": true, "nowhere.example": true, "::127.0.0.1": true} {
		err := CheckHost(context.Background(), r, host)
		if (err != nil) != wantErr {
			t.Errorf("%s: %v", host, err)
		}
	}
}

func TestControl(t *testing.T) {
	for addr, bad := range map[string]bool{
		"127.0.0.1:80": true, "[::1]:80": true, "[::127.0.0.1]:80": true, "[::ffff:10.0.0.1]:443": true,
		"169.254.169.254:80": true, "[fe80::1%eth0]:80": true, "not-an-ip:80": true,
		"93.184.216.34:443": false, "[2001:4860:4860::8888]:443": false,
	} {
		err := Control("tcp", addr, nil)
		if bad != errors.Is(err, ErrForbidden) {
			t.Errorf("Control(%s) = %v, want forbidden %v", addr, err, bad)
		}
	}
	var g *Guard
	if err := g.Control("tcp", "127.0.0.1:80", nil); err != nil {
		t.Errorf("a nil guard refused: %v", err)
	}
	allow := &Guard{Allow: func(ap netip.AddrPort) bool { return ap.Port() == 8080 }}
	if err := allow.Control("tcp", "127.0.0.1:8080", nil); err != nil {
		t.Errorf("the allowed port was refused: %v", err)
	}
	if err := allow.Control("tcp", "127.0.0.1:8081", nil); !errors.Is(err, ErrForbidden) {
		t.Errorf("another port was allowed: %v", err)
	}
}

func TestCheckLiteral(t *testing.T) {
	for value, bad := range map[string]bool{
		"http://169.254.169.254/latest/meta-data/": true,
		"http://[::127.0.0.1]:8080/":               true,
		"https://[::ffff:10.0.0.1]/":               true,
		"http://user:pw@10.0.0.1:80/x":             true,
		"10.0.0.1:9092":                            true,
		"[::1]:4222":                               true,
		"dns:///127.0.0.1:50051":                   true,
		"127.0.0.1":                                true,
		"nats://127.0.0.1:4222":                    true,
		"http://localhost:8080/":                   false, // a name: checked when dialled
		"http://example.com/":                      false,
		"https://93.184.216.34/":                   false,
		"broker.example:9092":                      false,
		"dns:///svc.example:50051":                 false,
	} {
		err := Strict.CheckLiteral(value)
		if bad != errors.Is(err, ErrForbidden) {
			t.Errorf("CheckLiteral(%s) = %v, want forbidden %v", value, err, bad)
		}
	}
	allow := &Guard{Allow: func(ap netip.AddrPort) bool { return ap.Port() == 8080 }}
	if err := allow.CheckLiteral("http://127.0.0.1:8080/"); err != nil {
		t.Errorf("the allowed port was refused: %v", err)
	}
	var g *Guard
	if err := g.CheckLiteral("http://127.0.0.1/"); err != nil {
		t.Errorf("a nil guard refused: %v", err)
	}
}

// TestDialRefusedBeforeConnect dials a loopback listener through the
// guard: the connection must be refused before it is made.
func TestDialRefusedBeforeConnect(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan struct{}, 1)
	go func() {
		if c, err := ln.Accept(); err == nil {
			accepted <- struct{}{}
			c.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if c, err := Strict.DialContext(ctx, "tcp", ln.Addr().String()); !errors.Is(err, ErrForbidden) {
		if c != nil {
			c.Close()
		}
		t.Fatalf("dial = %v, want ErrForbidden", err)
	}
	port := uint16(ln.Addr().(*net.TCPAddr).Port)
	allow := &Guard{Allow: func(ap netip.AddrPort) bool { return ap.Port() == port }}
	c, err := allow.DialContext(ctx, "tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("dial through the exception: %v", err)
	}
	c.Close()
	select {
	case <-accepted:
	case <-ctx.Done():
		t.Fatal("the allowed connection never arrived")
	}
}

// TestReasonArticle checks the article before each reason of an error.
func TestReasonArticle(t *testing.T) {
	for value, want := range map[string]string{
		"https://[::ffff:10.0.0.1]/": "::ffff:10.0.0.1 is an IPv4-mapped address embedding 10.0.0.1, a private address",
		"http://0.0.0.0/":            "0.0.0.0 is an unspecified address",
		"http://127.0.0.1/":          "127.0.0.1 is a loopback address",
		"http://[64:ff9b::a00:1]/":   "64:ff9b::a00:1 is a NAT64 address embedding 10.0.0.1, a private address",
	} {
		err := Strict.CheckLiteral(value)
		if err == nil || !strings.HasSuffix(err.Error(), want) {
			t.Errorf("CheckLiteral(%s) = %v, want … %s", value, err, want)
		}
	}
}
