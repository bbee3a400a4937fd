package cli

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// eventSink records the paths of the events posted to it.
type eventSink struct {
	*httptest.Server
	mu    sync.Mutex
	paths []string
}

func newEventSink(t *testing.T) *eventSink {
	s := &eventSink{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.paths = append(s.paths, r.Method+" "+r.URL.Path+" "+r.Header.Get("ce-type"))
		s.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *eventSink) got() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.paths, "; ")
}

func TestSendFollowsServer(t *testing.T) {
	isolate(t)
	t.Setenv(envSendURL, "")
	send := func(t *testing.T, args ...string) {
		t.Helper()
		r := cli(t, "", append([]string{"send"}, append(args, "--type", "com.example.x", "--source", "/s")...)...)
		if r.code != 0 {
			t.Fatalf("%v: %v", args, r)
		}
	}

	t.Run("flag", func(t *testing.T) {
		s := newEventSink(t)
		send(t, "--server", s.URL)
		if got := s.got(); got != "POST /events com.example.x" {
			t.Errorf("--server: got %q", got)
		}
	})
	t.Run("flag without scheme, and --path", func(t *testing.T) {
		s := newEventSink(t)
		send(t, "--server", strings.TrimPrefix(s.URL, "http://"), "--path", "/audit")
		if got := s.got(); got != "POST /audit com.example.x" {
			t.Errorf("--server --path: got %q", got)
		}
	})
	t.Run("env", func(t *testing.T) {
		s := newEventSink(t)
		t.Setenv(envServer, s.URL)
		send(t)
		if got := s.got(); got != "POST /events com.example.x" {
			t.Errorf("%s: got %q", envServer, got)
		}
	})
	t.Run("config context", func(t *testing.T) {
		s := newEventSink(t)
		t.Setenv(envConfig, writeFile(t, "config.yaml", "current_context: dev\ncontexts:\n  dev: {server: "+s.URL+"}\n"))
		send(t)
		if got := s.got(); got != "POST /events com.example.x" {
			t.Errorf("config context: got %q", got)
		}
	})
	t.Run("url wins", func(t *testing.T) {
		s, other := newEventSink(t), newEventSink(t)
		send(t, "--server", other.URL, "--url", s.URL+"/hook")
		t.Setenv(envServer, other.URL)
		t.Setenv(envSendURL, s.URL+"/env")
		send(t)
		if got := s.got(); got != "POST /hook com.example.x; POST /env com.example.x" {
			t.Errorf("--url, %s: got %q", envSendURL, got)
		}
		if got := other.got(); got != "" {
			t.Errorf("--server got %q though --url was set", got)
		}
	})
}

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestSendConnectionRefusedHint(t *testing.T) {
	isolate(t)
	t.Setenv(envSendURL, "")
	addr := closedAddr(t)
	r := cli(t, "", "send", "--server", addr, "--type", "t", "--source", "/s")
	if r.code != 1 {
		t.Fatalf("want exit 1: %v", r)
	}
	wantInOrder(t, "--server refused", r.err, "http://"+addr+"/events", "connection refused", "see --server, "+envServer, "--path", "--url or "+envSendURL)

	r = cli(t, "", "send", "--url", "http://"+addr+"/x", "--type", "t", "--source", "/s")
	if r.code != 1 {
		t.Fatalf("want exit 1: %v", r)
	}
	wantInOrder(t, "--url refused", r.err, "http://"+addr+"/x", "connection refused", "see --url or "+envSendURL)
	if strings.Contains(r.err, "--server") {
		t.Errorf("--url refused: hint names --server, which send did not use:\n%s", r.err)
	}
}
