package mqtt

import (
	"crypto/tls"
	"net"
)

func tls12Dialer(d *net.Dialer, cfg *tls.Config) *tls.Dialer {
	return &tls.Dialer{NetDialer: d, Config: cfg}
}
