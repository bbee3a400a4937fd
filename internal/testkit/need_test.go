package testkit

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// recTB records what Missing asks of the test instead of ending it.
type recTB struct {
	testing.TB
	skipped, failed string
}

func (r *recTB) Helper()                           {}
func (r *recTB) Skipf(format string, args ...any)  { r.skipped = fmt.Sprintf(format, args...) }
func (r *recTB) Fatalf(format string, args ...any) { r.failed = fmt.Sprintf(format, args...) }

func TestMissingSkipsOrFails(t *testing.T) {
	for _, integration := range []string{"", "1"} {
		t.Setenv("EVENTBRIDGE_INTEGRATION", integration)
		r := &recTB{TB: t}
		Missing(r, "no %s", "thing")
		got, other := r.skipped, r.failed
		if integration == "1" {
			got, other = r.failed, r.skipped
		}
		if !strings.Contains(got, "no thing") || other != "" {
			t.Errorf("EVENTBRIDGE_INTEGRATION=%q: skipped %q, failed %q", integration, r.skipped, r.failed)
		}
	}
}

func TestNeedToolNamesThePackage(t *testing.T) {
	t.Setenv("EVENTBRIDGE_INTEGRATION", "")
	t.Setenv("PATH", t.TempDir())
	r := &recTB{TB: t}
	if p := NeedTool(r, "eventbridge-no-such-tool", "Debian package no-such"); p != "" {
		t.Fatalf("found %s", p)
	}
	for _, want := range []string{"eventbridge-no-such-tool is not installed", "Debian package no-such", "make test-deps"} {
		if !strings.Contains(r.skipped, want) {
			t.Errorf("skip message %q lacks %q", r.skipped, want)
		}
	}
	// sh is on every machine that runs these tests.
	t.Setenv("PATH", "/usr/bin:/bin")
	r = &recTB{TB: t}
	if p := NeedTool(r, "sh", "base system"); p == "" || r.skipped != "" {
		t.Fatalf("sh: %q, skipped %q", p, r.skipped)
	}
}

func TestRepoRootHasGoMod(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "internal", "testkit")); err != nil {
		t.Fatalf("%s is not this repository: %v", root, err)
	}
}

// A port that answers an AMQP 1.0 header the way RabbitMQ 3.x without its
// plugin does (its AMQP 0-9-1 header, then close) is not an AMQP 1.0 peer,
// and the probe says so at once, naming the plugin.
func TestProbeAMQP1RejectsAMQP091(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan []byte, 1)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				hdr := make([]byte, 8)
				if _, err := io.ReadFull(c, hdr); err != nil {
					return // the probe's plain TCP check
				}
				got <- hdr
				_, _ = c.Write([]byte("AMQP\x00\x00\x09\x01"))
			}()
		}
	}()
	start := time.Now()
	err = ProbeAMQP1("amqp://"+ln.Addr().String(), 10*time.Second)
	if err == nil {
		t.Fatal("an AMQP 0-9-1 peer passed the AMQP 1.0 probe")
	}
	for _, want := range []string{"does not speak AMQP 1.0", "rabbitmq_amqp1_0", "make test-deps"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the probe took %s: it should fail as soon as the peer answers", d)
	}
	if hdr := <-got; string(hdr[:4]) != "AMQP" || hdr[5] != 1 {
		t.Errorf("the probe sent header %q, want an AMQP 1.0 one", hdr)
	}
}

func TestProbeAMQP1ClosedPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	err = ProbeAMQP1("amqp://"+addr, 2*time.Second)
	if err == nil || !strings.Contains(err.Error(), "no AMQP 1.0 peer at "+addr) {
		t.Fatalf("err = %v", err)
	}
}

// The machine's RabbitMQ passes the probe once it speaks AMQP 1.0; under
// EVENTBRIDGE_INTEGRATION=1 this fails with the probe's message otherwise.
func TestIntegrationProbeAMQP1(t *testing.T) {
	LockService(t, "rabbitmq") // connector tests restart it
	u := os.Getenv("EVENTBRIDGE_AMQP1_URL")
	if u == "" {
		u = "amqp://127.0.0.1:5672"
	}
	NeedAMQP1(t, u)
}
