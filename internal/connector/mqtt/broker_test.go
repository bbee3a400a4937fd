package mqtt

import (
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"

	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

// broker is an embedded MQTT broker (mochi) on a loopback port.
type broker struct {
	addr string
	srv  *mochi.Server
}

// startBroker starts a broker on a free port; it is closed when the test
// ends.
func startBroker(t testing.TB) *broker {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &broker{addr: ln.Addr().String()}
	ln.Close()
	b.start(t)
	t.Cleanup(func() { closeMochi(t, b.srv) })
	return b
}

// mochiStuck is set when a broker's Close did not return (see closeMochi);
// TestMain then does not count that broker's goroutines as leaks.
var mochiStuck atomic.Bool

// closeMochi closes an embedded broker. mochi v2.7.9 can deadlock in
// Close: closing a listener's clients takes its clients' read lock twice
// (GetByListener calls Len), and a client attaching at that moment asks
// for the write lock in between. A broker stuck so is left behind, with a
// note, instead of hanging the test run.
func closeMochi(t testing.TB, srv *mochi.Server) {
	done := make(chan struct{})
	go func() {
		_ = srv.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		mochiStuck.Store(true)
		t.Logf("the embedded MQTT broker (mochi) did not close within 15s (its lock-order deadlock); left behind")
	}
}

func (b *broker) url() string { return "mqtt://" + b.addr }

func (b *broker) start(t testing.TB) {
	t.Helper()
	srv := mochi.New(&mochi.Options{Logger: slog.New(slog.DiscardHandler)})
	if err := srv.AddHook(new(auth.AllowHook), nil); err != nil {
		t.Fatal(err)
	}
	var err error
	for deadline := time.Now().Add(10 * time.Second); ; {
		// The port may linger for a moment after a restart.
		if err = srv.AddListener(listeners.NewTCP(listeners.Config{ID: "tcp", Address: b.addr})); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Serve(); err != nil {
		t.Fatal(err)
	}
	b.srv = srv
}

// restart closes the broker (every session is lost) and starts a new one
// on the same port. Then it waits until a subscriber for topic is back:
// the broker keeps nothing for a topic without subscribers, so an event
// published before the source has subscribed again is lost by design.
func (b *broker) restart(t testing.TB, topic func() string) {
	t.Helper()
	closeMochi(t, b.srv)
	b.start(t)
	connectortest.Eventually(t, 30*time.Second, func() bool {
		return len(b.srv.Topics.Subscribers(topic()).Subscriptions) > 0
	}, "nobody subscribed to %s after the restart", topic())
}

// Integration: the machine's Mosquitto.

// mosquittoURL is the integration broker: $EVENTBRIDGE_MQTT_URL or the
// local Mosquitto. The test skips when it is not there, unless
// EVENTBRIDGE_INTEGRATION=1, where that fails.
func mosquittoURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("EVENTBRIDGE_MQTT_URL")
	if u == "" {
		u = "mqtt://127.0.0.1:1883"
	}
	host := strings.TrimPrefix(strings.TrimPrefix(u, "mqtt://"), "tcp://")
	testkit.NeedTCP(t, host, "MQTT broker")
	return u
}

// restartMosquitto stops the local Mosquitto (by the pid in its pid file)
// and starts it again, as SERVICES.md says, and waits for its port. Its
// persistence keeps the sources' sessions across the restart. Only under
// EVENTBRIDGE_INTEGRATION=1: other work on this machine uses the broker.
func restartMosquitto(t testing.TB) {
	t.Helper()
	const pidFile, addr = "/run/mosquitto/mosquitto.pid", "127.0.0.1:1883"
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatalf("mosquitto pid: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("mosquitto pid %q: %v", b, err)
	}
	defer func() {
		// Whatever happened, leave the broker running.
		if !listening(addr) {
			out, err := exec.Command("mosquitto", "-d", "-c", "/etc/mosquitto/mosquitto.conf").CombinedOutput()
			if err != nil {
				t.Errorf("start mosquitto: %v: %s", err, out)
			}
		}
		connectortest.Eventually(t, 30*time.Second, func() bool { return listening(addr) }, "mosquitto did not come back on %s", addr)
	}()
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatalf("stop mosquitto (pid %d): %v", pid, err)
	}
	connectortest.Eventually(t, 30*time.Second, func() bool { return !listening(addr) && syscall.Kill(pid, 0) != nil }, "mosquitto (pid %d) did not stop", pid)
}

func listening(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}
