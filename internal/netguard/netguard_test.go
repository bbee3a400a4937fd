package netguard

import (
	"context"
	"errors"
	"net/netip"
	"testing"
)

type fakeResolver map[string][]netip.Addr

func (f fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := f[host]; ok {
		return a, nil
	}
	return nil, errors.New("no such host")
}

func TestForbidden(t *testing.T) {
	for addr, bad := range map[string]bool{
		"127.0.0.1": true, "::1": true, "169.254.169.254": true, "fe80::1": true, "10.1.2.3": true, "192.168.0.1": true,
		"172.16.0.1": true, "0.0.0.0": true, "::": true, "fd00::1": true, "100.64.0.1": true, "::ffff:127.0.0.1": true,
		"8.8.8.8": false, "2001:4860:4860::8888": false, "93.184.216.34": false,
	} {
		if got := Forbidden(netip.MustParseAddr(addr)) != ""; got != bad {
			t.Errorf("%s: forbidden = %v, want %v", addr, got, bad)
		}
	}
}

func TestCheckHost(t *testing.T) {
	r := fakeResolver{
		"evil.example":  {netip.MustParseAddr("127.0.0.1")},
		"mixed.example": {netip.MustParseAddr("93.184.216.34"), netip.MustParseAddr("10.0.0.1")},
		"good.example":  {netip.MustParseAddr("93.184.216.34")},
	}
	for host, wantErr := range map[string]bool{"evil.example": true, "mixed.example": true, "good.example": false, "169.254.169.254": true, "nowhere.example": true} {
		err := CheckHost(context.Background(), r, host)
		if (err != nil) != wantErr {
			t.Errorf("%s: %v", host, err)
		}
	}
	if err := Control("tcp", "127.0.0.1:80", nil); !errors.Is(err, ErrForbidden) {
		t.Errorf("Control loopback: %v", err)
	}
	if err := Control("tcp", "93.184.216.34:443", nil); err != nil {
		t.Errorf("Control public: %v", err)
	}
}
