package nats

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

// natsServer is an embedded nats-server with JetStream on a loopback port
// and a temp store dir.
type natsServer struct {
	port int
	dir  string
	srv  *server.Server
}

func startServer(t testing.TB) *natsServer {
	t.Helper()
	s := &natsServer{port: -1, dir: t.TempDir()}
	s.start(t)
	s.port = s.srv.Addr().(*net.TCPAddr).Port
	t.Cleanup(s.shutdown)
	return s
}

func (s *natsServer) url() string { return "nats://127.0.0.1:" + strconv.Itoa(s.port) }

func (s *natsServer) start(t testing.TB) {
	t.Helper()
	var err error
	for deadline := time.Now().Add(10 * time.Second); ; {
		s.srv, err = server.NewServer(&server.Options{Host: "127.0.0.1", Port: s.port, JetStream: true, StoreDir: s.dir, NoLog: true, NoSigs: true})
		if err != nil {
			t.Fatal(err)
		}
		go s.srv.Start()
		if s.srv.ReadyForConnections(10 * time.Second) {
			return
		}
		s.shutdown()
		if time.Now().After(deadline) {
			t.Fatal("nats-server did not start")
		}
	}
}

func (s *natsServer) shutdown() {
	s.srv.Shutdown()
	s.srv.WaitForShutdown()
}

// restart stops the server and starts it again on the same port and
// store dir (streams and durable consumers survive).
func (s *natsServer) restart(t testing.TB) {
	t.Helper()
	s.shutdown()
	s.start(t)
}

// waitForSubscriber waits until some client subscribes to subject: core
// NATS keeps nothing for a subject without subscribers, so an event sent
// before the source has subscribed again is lost by design.
func (s *natsServer) waitForSubscriber(t testing.TB, subject string) {
	t.Helper()
	connectortest.Eventually(t, 30*time.Second, func() bool {
		sz, err := s.srv.Subsz(&server.SubszOptions{Test: subject, Subscriptions: true})
		return err == nil && sz.Total > 0
	}, "nobody subscribed to %s after the restart", subject)
}

// Integration: the machine's NATS.

// natsURL is $EVENTBRIDGE_NATS_URL or the local NATS; the test skips when
// it is not there, unless EVENTBRIDGE_INTEGRATION=1, where that fails.
func natsURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("EVENTBRIDGE_NATS_URL")
	if u == "" {
		u = "nats://127.0.0.1:4222"
	}
	nc, err := nats.Connect(u, nats.Timeout(2*time.Second))
	if err != nil {
		testkit.Missing(t, "no NATS at %s: %v", u, err)
	}
	nc.Close()
	return u
}

// restartLocalNATS stops the machine's NATS (the process listening on
// 127.0.0.1:4222, by pid) and starts it again with the command of
// SERVICES.md, leaving it running whatever happens.
func restartLocalNATS(t testing.TB) {
	t.Helper()
	const addr = "127.0.0.1:4222"
	out, err := exec.Command("ss", "-ltnpH", "sport = :4222").CombinedOutput()
	if err != nil {
		t.Fatalf("ss: %v: %s", err, out)
	}
	m := regexp.MustCompile(`pid=(\d+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no process listens on %s: %s", addr, out)
	}
	pid, _ := strconv.Atoi(string(m[1]))
	defer func() {
		if !listening(addr) {
			cmd := exec.Command("start-stop-daemon", "--start", "--oknodo", "--background", "--exec", "/usr/sbin/nats-server", "--",
				"-a", "127.0.0.1", "-p", "4222", "-js", "-sd", "/var/lib/nats-server", "-l", "/var/log/nats-server.log")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("start nats-server: %v: %s", err, out)
			}
		}
		connectortest.Eventually(t, 30*time.Second, func() bool { return listening(addr) }, "NATS did not come back on %s", addr)
	}()
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatalf("stop nats-server (pid %d): %v", pid, err)
	}
	connectortest.Eventually(t, 30*time.Second, func() bool {
		return !listening(addr) && errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
	}, "nats-server (pid %d) did not stop", pid)
}

// probeSubscriber waits until a source answers a request on subject (it
// answers even an invalid message, with an error): it has subscribed.
func probeSubscriber(t testing.TB, url, subject string) {
	t.Helper()
	nc, err := nats.Connect(url, nats.RetryOnFailedConnect(true), nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	connectortest.Eventually(t, 30*time.Second, func() bool {
		_, err := nc.Request(subject, []byte("probe: not an event"), 200*time.Millisecond)
		return err == nil
	}, "no source answers on %s", subject)
}

func listening(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}
