package mqtt

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"
	"go.uber.org/goleak"

	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
	"github.com/eventbridge-dev/eventbridge/internal/netguard"
	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

// TestGuardedConnection: a source and a target created through the API
// (Deps.Guard set) dial through the guard, in both protocol versions and
// over TCP and WebSocket: a host name that resolves to a loopback broker
// is refused with an error that says so, and nothing reaches the broker;
// let through, the guarded connections carry an event from the target to
// the source.
func TestGuardedConnection(t *testing.T) {
	before := goleak.IgnoreCurrent()
	t.Cleanup(func() {
		// paho.mqtt.golang ends the connect loop of a refused link only
		// after the retry interval (1s) it was sleeping.
		testkit.Eventually(t, 10*time.Second, func() bool { return goleak.Find(before) == nil }, "the links left goroutines behind")
	})
	for _, v := range []Version{V5, V311} {
		for _, scheme := range []string{"mqtt", "ws"} {
			t.Run(string(v)+"/"+scheme, func(t *testing.T) {
				t.Parallel()
				srv, port := startGuardBroker(t, scheme)
				ch := connectortest.Channel(t)
				source := func(url string) string {
					return fmt.Sprintf(`{"type":"mqtt","url":%q,"version":%q,"topics":[%q],"qos":1}`, url, v, ch+"/#")
				}
				target := func(url string) string {
					return fmt.Sprintf(`{"type":"mqtt","url":%q,"version":%q,"topic":%q,"qos":1}`, url, v, ch+"/{type}")
				}

				guard, asked := connectortest.RefusingGuard()
				deps := connectortest.Deps(nil)
				deps.Guard = guard
				named := fmt.Sprintf("%s://localhost:%d", scheme, port)
				src := connectortest.StartSourceWith(t, "refused", source(named), deps)
				tg := connectortest.StartTargetWith(t, "refused", target(named), deps)
				connectortest.WaitAsked(t, asked, port)
				for what, c := range map[string]component.Component{"source": src, "target": tg} {
					connectortest.Eventually(t, 20*time.Second, func() bool {
						return strings.Contains(c.Health().LastError, netguard.ErrForbidden.Error())
					}, "the %s's error does not say the address is not allowed: %+v", what, c.Health)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				if err := tg.Send(ctx, connectortest.Sample("refused")); !errors.Is(err, connector.ErrNotConnected) {
					t.Errorf("send through a refusing guard: %v, want ErrNotConnected", err)
				}
				if n := srv.Clients.Len(); n != 0 {
					t.Fatalf("%d clients reached the broker through a refusing guard", n)
				}

				col := connectortest.NewCollector()
				deps = connectortest.Deps(col)
				deps.Guard = netguard.AllowOnly(fmt.Sprintf("127.0.0.1:%d", port))
				literal := fmt.Sprintf("%s://127.0.0.1:%d", scheme, port)
				src = connectortest.StartSourceWith(t, "allowed", source(literal), deps)
				connectortest.Eventually(t, 20*time.Second, func() bool { return src.Health().State == component.Running },
					"the allowed source does not run: %+v", src.Health)
				tg = connectortest.StartTargetWith(t, "allowed", target(literal), deps)
				connectortest.Send(t, tg, connectortest.Sample("allowed"))
				connectortest.Eventually(t, 20*time.Second, func() bool { return col.Count() == 1 }, "the event did not arrive")
			})
		}
	}
}

// startGuardBroker starts an embedded broker listening on a free loopback
// port for scheme (mqtt or ws); it is closed when the test ends.
func startGuardBroker(t *testing.T, scheme string) (*mochi.Server, int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().(*net.TCPAddr)
	ln.Close()
	srv := mochi.New(&mochi.Options{Logger: slog.New(slog.DiscardHandler)})
	if err := srv.AddHook(new(auth.AllowHook), nil); err != nil {
		t.Fatal(err)
	}
	lc := listeners.Config{ID: scheme, Address: addr.String()}
	var l listeners.Listener = listeners.NewTCP(lc)
	if scheme == "ws" {
		l = listeners.NewWebsocket(lc)
	}
	if err := srv.AddListener(l); err != nil {
		t.Fatal(err)
	}
	if err := srv.Serve(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeMochi(t, srv) })
	return srv, addr.Port
}

// The guarded dialer holds every scheme to the guard and goes straight to
// the broker, whatever proxy the environment names.
func TestGuardedDialerSchemes(t *testing.T) {
	port, accepted := connectortest.CountingListener(t)
	proxyPort, proxied := connectortest.CountingListener(t)
	proxy := fmt.Sprintf("127.0.0.1:%d", proxyPort)
	t.Setenv("all_proxy", "socks5://"+proxy)
	t.Setenv("HTTP_PROXY", "http://"+proxy)
	t.Setenv("HTTPS_PROXY", "http://"+proxy)
	t.Setenv("NO_PROXY", "")
	for _, scheme := range []string{"mqtt", "tcp", "mqtts", "ssl", "tls", "ws", "wss"} {
		u, err := url.Parse(fmt.Sprintf("%s://localhost:%d/mqtt", scheme, port))
		if err != nil {
			t.Fatal(err)
		}
		guard, _ := connectortest.RefusingGuard()
		d := &guardedDialer{guard: guard, timeout: 5 * time.Second}
		if c, err := d.dial(context.Background(), u); !errors.Is(err, netguard.ErrForbidden) {
			if c != nil {
				c.Close()
			}
			t.Errorf("%s: refusing guard: %v, want ErrForbidden", scheme, err)
		}
		if n := accepted.Load(); n != 0 {
			t.Fatalf("%s: %d connections reached the listener through a refusing guard", scheme, n)
		}

		d.guard = netguard.AllowOnly(fmt.Sprintf("127.0.0.1:%d", port))
		u.Host = fmt.Sprintf("127.0.0.1:%d", port)
		if c, err := d.dial(context.Background(), u); err == nil {
			c.Close() // mqtt and tcp; the others fail their handshake
		}
		testkit.Eventually(t, 10*time.Second, func() bool { return accepted.Load() == 1 }, "%s: the allowed dial did not reach the listener", scheme)
		accepted.Store(0)
	}
	if n := proxied.Load(); n != 0 {
		t.Fatalf("%d connections went to the environment's proxy", n)
	}
}
