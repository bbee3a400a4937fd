package http

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	nethttp "net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// writeCounter is a client connection that records every Write.
type writeCounter struct {
	net.Conn
	mu     *sync.Mutex
	writes *[][]byte
}

func (c writeCounter) Write(p []byte) (int, error) {
	c.mu.Lock()
	*c.writes = append(*c.writes, bytes.Clone(p))
	c.mu.Unlock()
	return c.Conn.Write(p)
}

// TestTargetWritesEachRequestOnce checks that a delivery goes out in one
// write (one packet) of headers and body together: a body the transport
// does not know to be in memory makes it flush the headers first, and
// every delivery then costs two writes.
func TestTargetWritesEachRequestOnce(t *testing.T) {
	for _, mode := range []Mode{ModeBinary, ModeStructured, ModeData} {
		t.Run(string(mode), func(t *testing.T) {
			srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				w.WriteHeader(nethttp.StatusNoContent)
			}))
			t.Cleanup(srv.Close) // after the target's Stop
			tg := startTarget(t, &TargetConfig{URL: srv.URL, Mode: mode})
			var mu sync.Mutex
			var writes [][]byte
			tr := tg.client.Transport.(*nethttp.Transport)
			dial := tr.DialContext
			tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
				c, err := dial(ctx, network, addr)
				if err != nil {
					return nil, err
				}
				return writeCounter{Conn: c, mu: &mu, writes: &writes}, nil
			}
			e := testEvent()
			const n = 3
			for range n {
				if err := tg.Send(context.Background(), e); err != nil {
					t.Fatal(err)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if len(writes) != n {
				t.Fatalf("%d requests took %d writes, want one each", n, len(writes))
			}
			for i, w := range writes {
				req, err := nethttp.ReadRequest(bufio.NewReader(bytes.NewReader(w)))
				if err != nil {
					t.Fatalf("write %d is not a whole request: %v: %q", i, err, w)
				}
				if body, err := io.ReadAll(req.Body); err != nil || int64(len(body)) != req.ContentLength || len(body) == 0 {
					t.Errorf("write %d does not carry the whole body (%v): %q", i, err, w)
				}
			}
		})
	}
}

// TestSetBodyGetBody checks that the body can be read again (GetBody),
// as the transport does on a reused connection closed under it.
func TestSetBodyGetBody(t *testing.T) {
	req := &nethttp.Request{}
	setBody(req, []byte("hello"))
	first, _ := io.ReadAll(req.Body)
	again, err := req.GetBody()
	if err != nil {
		t.Fatal(err)
	}
	second, _ := io.ReadAll(again)
	if string(first) != "hello" || string(second) != "hello" || req.ContentLength != 5 {
		t.Fatalf("body %q, again %q, length %d", first, second, req.ContentLength)
	}
	setBody(req, nil)
	if req.Body != nethttp.NoBody || req.ContentLength != 0 {
		t.Fatalf("empty body: %v, length %d", req.Body, req.ContentLength)
	}
}

// TestReadBodyLongerThanSaid: a body longer than its Content-Length
// (which net/http's server does not give; the source then reads it
// without a MaxBytesReader) is still read only up to the limit.
func TestReadBodyLongerThanSaid(t *testing.T) {
	got, err := readBody(strings.NewReader("12345678"), 5, 10)
	if err != nil || string(got) != "12345678" {
		t.Fatalf("within the limit: %q, %v", got, err)
	}
	got, err = readBody(strings.NewReader(strings.Repeat("x", 1000)), 5, 10)
	var mbe *nethttp.MaxBytesError
	if !errors.As(err, &mbe) || len(got) > 11 {
		t.Fatalf("over the limit: %d bytes, %v; want a MaxBytesError after at most 11 bytes", len(got), err)
	}
	got, err = readBody(strings.NewReader("12345"), 5, 10)
	if err != nil || string(got) != "12345" {
		t.Fatalf("as said: %q, %v", got, err)
	}
}

// countingListener hands out connections that record their writes.
type countingListener struct {
	net.Listener
	mu     *sync.Mutex
	writes *[][]byte
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return writeCounter{Conn: c, mu: l.mu, writes: l.writes}, nil
}

// TestSourceAnswersInOneWrite checks that the source's answer, 202 or a
// problem, goes out in one write (one packet) per request.
func TestSourceAnswersInOneWrite(t *testing.T) {
	src, rec := newTestSource(t, nil)
	srv := httptest.NewUnstartedServer(src)
	var mu sync.Mutex
	var writes [][]byte
	srv.Listener = countingListener{Listener: srv.Listener, mu: &mu, writes: &writes}
	srv.Start()
	defer srv.Close()
	client := srv.Client()
	bodies := []struct {
		id     string
		status int
	}{{"a", nethttp.StatusAccepted}, {"", nethttp.StatusBadRequest}, {"b", nethttp.StatusAccepted}}
	for _, b := range bodies {
		req, _ := nethttp.NewRequest(nethttp.MethodPost, srv.URL+"/events", strings.NewReader(`{"n":1}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Ce-Specversion", "1.0")
		req.Header.Set("Ce-Source", "/test")
		req.Header.Set("Ce-Type", "com.example.test")
		if b.id != "" {
			req.Header.Set("Ce-Id", b.id)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != b.status {
			t.Fatalf("status %d, want %d", resp.StatusCode, b.status)
		}
	}
	if rec.calls() != 2 {
		t.Fatalf("%d events stored, want 2", rec.calls())
	}
	mu.Lock()
	defer mu.Unlock()
	if len(writes) != len(bodies) {
		t.Fatalf("%d answers took %d writes, want one each", len(bodies), len(writes))
	}
}
