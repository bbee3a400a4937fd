package bus

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
)

func TestParseVersion(t *testing.T) {
	for v, want := range map[string]int{ // compared with MinServerVersion
		"2.9.10": 0, "v2.9.10": 0, "2.9.9": -1, "2.8.4": -1, "1.4.1": -1, "2.9.11": 1,
		"2.10.0": 1, "2.15.2": 1, "2.11.0-beta.1": 1, "2.9.10+build": 0, "3.0.0": 1,
	} {
		got, ok := parseVersion(v)
		if !ok {
			t.Errorf("parseVersion(%q) failed", v)
			continue
		}
		min, _ := parseVersion(MinServerVersion)
		if c := compareVersions(got, min); c != want {
			t.Errorf("%s vs %s: %d, want %d", v, MinServerVersion, c, want)
		}
	}
	for _, v := range []string{"", "2.9", "x.y.z", "2.9.-1"} {
		if _, ok := parseVersion(v); ok {
			t.Errorf("parseVersion(%q) succeeded", v)
		}
	}
}

// fakeNATS is a loopback listener that speaks just enough of the NATS
// protocol for a client to connect: an INFO line announcing version, and a
// PONG for each PING.
func fakeNATS(t *testing.T, version string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	port := ln.Addr().(*net.TCPAddr).Port
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				defer c.Close()
				fmt.Fprintf(c, "INFO {\"server_id\":\"FAKE\",\"server_name\":\"fake\",\"version\":%q,\"proto\":1,\"host\":\"127.0.0.1\",\"port\":%d,\"headers\":true,\"max_payload\":1048576}\r\n", version, port)
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if strings.HasPrefix(line, "PING") {
						if _, err := c.Write([]byte("PONG\r\n")); err != nil {
							return
						}
					}
				}
			}(c)
		}
	}()
	return "nats://127.0.0.1:" + strconv.Itoa(port)
}

// A server older than MinServerVersion is refused at once, with a message
// that names its version and the oldest supported.
func TestOpenRefusesAnOldServer(t *testing.T) {
	url := fakeNATS(t, "2.8.4")
	cfg := Config{URL: url}
	cfg.Defaults()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	b, err := Open(ctx, cfg, nil)
	if err == nil {
		b.Close()
		t.Fatal("Open succeeded against nats-server 2.8.4")
	}
	if !errors.Is(err, ErrServerVersion) {
		t.Fatalf("err = %v, want ErrServerVersion", err)
	}
	for _, s := range []string{"2.8.4", MinServerVersion, "127.0.0.1"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("the message %q does not name %s", err, s)
		}
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the refusal took %s", d)
	}
	t.Log(err)
}

// The bridge's bus works on the oldest server it claims to support: the
// nats-server binary on PATH when it is that version (Debian 12 ships
// 2.9.10), started on a free port with its own store.
func TestOpenOnOldestSupportedServer(t *testing.T) {
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		if os.Getenv("EVENTBRIDGE_INTEGRATION") == "1" {
			t.Fatal("nats-server not on PATH")
		}
		t.Skip("nats-server not on PATH")
	}
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("%s --version: %v", bin, err)
	}
	if !strings.Contains(string(out), "v"+MinServerVersion) {
		t.Skipf("nats-server on PATH is %s, not %s", strings.TrimSpace(string(out)), MinServerVersion)
	}
	url := runNATSBinary(t, bin)
	b := openOn(t, Config{URL: url, Prefix: "old"})
	if v := b.Conn().ConnectedServerVersion(); v != MinServerVersion {
		t.Fatalf("connected to %s", v)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ev := ce.New()
	ev.SetID("1")
	ev.SetSource("test")
	ev.SetType("t")
	if _, err := b.Publish(ctx, "in", []*ce.Event{&ev}); err != nil {
		t.Fatal(err)
	}
	kv, err := b.KV(ctx, DesiredStateBucket)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, "rules.a", []byte("x")); err != nil {
		t.Fatal(err)
	}
	n := 0
	if err := b.Archive().Scan(ctx, Scan{Subjects: []string{SourceEvents("in")}}, func(*Archived) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("the archive holds %d events of source in, want 1", n)
	}
}

// runNATSBinary starts the nats-server binary with JetStream on a free
// loopback port and a temporary store, stopped when the test ends.
func runNATSBinary(t *testing.T, bin string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	cmd := exec.Command(bin, "-a", "127.0.0.1", "-p", strconv.Itoa(port), "-js", "-sd", t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	addr := "127.0.0.1:" + strconv.Itoa(port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("nats-server did not listen on %s within 30s", addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return "nats://" + addr
}
