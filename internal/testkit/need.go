package testkit

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	amqp "github.com/Azure/go-amqp"
)

// Integration reports whether EVENTBRIDGE_INTEGRATION=1: then a missing
// service or tool fails the test instead of skipping it.
func Integration() bool { return os.Getenv("EVENTBRIDGE_INTEGRATION") == "1" }

// Missing ends the test because something it needs is not there: it skips,
// or fails under EVENTBRIDGE_INTEGRATION=1. The message should say what is
// missing and how to get it.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if Integration() {
		t.Fatalf("%s [EVENTBRIDGE_INTEGRATION=1: a missing dependency fails]", msg)
		return
	}
	t.Skipf("%s [skipped; EVENTBRIDGE_INTEGRATION=1 fails instead]", msg)
}

// depsHint is how to get what the tests need.
const depsHint = "`make test-deps` (as root) prepares the test dependencies"

// NeedTool returns the path of a command-line client the test runs: on the
// PATH, or in the repository's bin/tools (where `make test-deps` builds the
// tools Debian does not package). Without it the test is Missing; pkg
// names what provides it ("Debian package kcat", "go install ...").
func NeedTool(t testing.TB, name, pkg string) string {
	t.Helper()
	if p, err := LookTool(name); err == nil {
		return p
	}
	Missing(t, "%s is not installed (%s; %s)", name, pkg, depsHint)
	return ""
}

// LookTool finds a command on the PATH or in the repository's bin/tools.
func LookTool(name string) (string, error) {
	p, err := exec.LookPath(name)
	if err == nil {
		return p, nil
	}
	if root, rerr := RepoRoot(); rerr == nil {
		if q, qerr := exec.LookPath(filepath.Join(root, "bin", "tools", name)); qerr == nil {
			return q, nil
		}
	}
	return "", err
}

// RepoRoot is the directory of the go.mod above the working directory
// (go test runs each package's tests in the package's directory).
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// NeedTCP makes the test Missing unless something accepts TCP connections
// at addr. Use it only where an open port is all the test relies on; a
// test that needs a protocol probes for the protocol (NeedAMQP1).
func NeedTCP(t testing.TB, addr, what string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		Missing(t, "no %s at %s: %v", what, addr, err)
		return
	}
	c.Close()
}

// amqp1Help says how to give RabbitMQ AMQP 1.0.
const amqp1Help = "RabbitMQ 3.x speaks AMQP 1.0 only with its plugin: rabbitmq-plugins enable rabbitmq_amqp1_0"

// NeedAMQP1 makes the test Missing unless the peer at rawURL (amqp://
// [user:pass@]host:port) completes an AMQP 1.0 handshake the way the amqp1
// connector does it: SASL PLAIN with the URL's user, ANONYMOUS without
// one, then open and a session.
// An open port is not enough: RabbitMQ 3.x without its rabbitmq_amqp1_0
// plugin answers an AMQP 1.0 header with its AMQP 0-9-1 one and closes.
func NeedAMQP1(t testing.TB, rawURL string) {
	t.Helper()
	if err := ProbeAMQP1(rawURL, 5*time.Second); err != nil {
		Missing(t, "%v", err)
	}
}

// ProbeAMQP1 is NeedAMQP1's check: nil when the peer speaks AMQP 1.0
// within timeout. The error says what is wrong and how to fix it.
func ProbeAMQP1(rawURL string, timeout time.Duration) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("AMQP 1.0 peer URL %q: %w", rawURL, err)
	}
	// A closed port is a different problem from a peer that does not
	// speak the protocol: say which.
	c, err := net.DialTimeout("tcp", u.Host, timeout)
	if err != nil {
		return fmt.Errorf("no AMQP 1.0 peer at %s: %w", u.Host, err)
	}
	c.Close()
	opts := &amqp.ConnOptions{SASLType: amqp.SASLTypeAnonymous()}
	if u.User != nil {
		pass, _ := u.User.Password()
		opts.SASLType = amqp.SASLTypePlain(u.User.Username(), pass)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	conn, err := amqp.Dial(ctx, "amqp://"+u.Host, opts)
	if err != nil {
		return fmt.Errorf("%s accepts TCP but does not speak AMQP 1.0 (%v); %s; %s", u.Host, err, amqp1Help, depsHint)
	}
	defer conn.Close()
	sess, err := conn.NewSession(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s speaks AMQP 1.0 but refused a session (%v); %s", u.Host, err, amqp1Help)
	}
	_ = sess.Close(ctx)
	return nil
}
