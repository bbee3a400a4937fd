package testkit

import (
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// scripts/test-deps.sh --check on a PATH that has only the base system: it
// names every missing client with its package, tells a RabbitMQ without
// AMQP 1.0 from one with it, and exits 1; with everything there it exits 0.
func TestTestDepsScriptCheck(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(root, "scripts", "test-deps.sh")
	bin := t.TempDir()
	// What the script itself uses; all of it is in Debian's base system.
	for _, c := range []string{"bash", "id", "find", "od", "head", "tr", "timeout", "seq", "sleep", "dirname", "touch", "mkdir", "rm"} {
		p, err := exec.LookPath(c)
		if err != nil {
			t.Skipf("%s: %v", c, err)
		}
		if err := os.Symlink(p, filepath.Join(bin, c)); err != nil {
			t.Fatal(err)
		}
	}
	check := func(peer string) (string, int) {
		t.Helper()
		cmd := exec.Command(script, "--check")
		cmd.Env = append(os.Environ(), "PATH="+bin, "EVENTBRIDGE_AMQP1_URL=amqp://"+peer)
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("%s: %v\n%s", script, err, out)
		}
		return string(out), code
	}

	rabbit3 := fakePeer(t, "AMQP\x00\x00\x09\x01") // RabbitMQ 3.x without its plugin
	out, code := check(rabbit3)
	if code != 1 {
		t.Errorf("exit %d, want 1:\n%s", code, out)
	}
	for _, want := range []string{
		"mosquitto_pub (Debian package mosquitto-clients)", "kcat (Debian package kcat)",
		"redis-cli (Debian package redis-tools)", "psql (Debian package postgresql-client)",
		"amqp-publish (Debian package amqp-tools)", "ss (Debian package iproute2)", "chromium (Debian package chromium)",
		"AMQP 1.0 on 127.0.0.1:", "rabbitmq_amqp1_0",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("--check does not say %q:\n%s", want, out)
		}
	}

	// grpcurl may have been built into the repository's bin/tools already.
	if _, err := os.Stat(filepath.Join(root, "bin", "tools", "grpcurl")); err != nil && !strings.Contains(out, "grpcurl (") {
		t.Errorf("--check does not say grpcurl is missing:\n%s", out)
	}

	// Every client there (as stand-ins) and a peer that answers AMQP 1.0.
	for _, c := range []string{"mosquitto_pub", "mosquitto_sub", "kcat", "redis-cli", "psql", "amqp-publish", "amqp-get",
		"amqp-declare-queue", "amqp-delete-queue", "ss", "grpcurl", "chromium"} {
		if err := os.WriteFile(filepath.Join(bin, c), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	amqp1 := fakePeer(t, "AMQP\x03\x01\x00\x00")
	if out, code := check(amqp1); code != 0 || !strings.Contains(out, "everything the tests need is there") {
		t.Errorf("with everything there: exit %d:\n%s", code, out)
	}
	if out, code := check(rabbit3); code != 1 || !strings.Contains(out, "AMQP 1.0 on 127.0.0.1:") || strings.Contains(out, "kcat") {
		t.Errorf("with only AMQP 1.0 missing: exit %d:\n%s", code, out)
	}
}

// fakePeer listens on a loopback port and answers whatever header it gets
// with answer, then closes. It returns host:port.
func fakePeer(t *testing.T, answer string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				if _, err := io.ReadFull(c, make([]byte, 8)); err == nil {
					_, _ = c.Write([]byte(answer))
				}
			}()
		}
	}()
	return ln.Addr().String()
}
