package httpsrc

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

func TestDefaultsAndValidation(t *testing.T) {
	var e Endpoint
	e.FillHTTPDefaults("/events")
	p := spec.NewProblems("")
	e.ValidateHTTP(p)
	if err := p.Err(); err != nil {
		t.Fatalf("defaults are not valid: %v", err)
	}
	if e.Path != "/events" || e.Timeout.D() != 10*time.Second || e.MountPath() != "/events" {
		t.Fatalf("defaults %+v", e)
	}
	bad := Endpoint{Path: "/v1/x", Listen: "nowhere", Timeout: spec.Duration(-time.Second), ReadTimeout: spec.Duration(-time.Second)}
	p = spec.NewProblems("")
	bad.ValidateHTTP(p)
	err := p.Err()
	for _, want := range []string{"path: /v1/x is reserved", "listen: must be host:port", "timeout: must be positive", "read_timeout: must be positive", "max_connections: must be at least 1"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v: want %q", err, want)
		}
	}
	if bad.MountPath() != "" {
		t.Fatal("a source with its own listener has a mount path on the shared server")
	}
}

// Served on its own listener: the handler answers at the path, the health
// names the address, and Stop shuts the listener.
func TestOwnListener(t *testing.T) {
	e := Endpoint{Path: "/in", Listen: "127.0.0.1:0"}
	e.FillHTTPDefaults("/in")
	var tr component.Tracker
	s := NewServer("s", &tr, &e, nil, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "hi") })
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := tr.Health()
	addr, _ := st.Detail["listen"].(string)
	if st.State != component.Running || addr == "" || st.Detail["path"] != "/in" {
		t.Fatalf("health %+v", st)
	}
	res, err := http.Get("http://" + addr + "/in")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(b) != "hi" {
		t.Fatalf("answer %q", b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Stop(ctx); err != nil || tr.Health().State != component.Terminated {
		t.Fatalf("state %v after Stop", tr.Health().State)
	}
	if _, err := http.Get("http://" + addr + "/in"); err == nil {
		t.Fatal("the listener still answers after Stop")
	}
}

type mounter struct{ path string }

func (m *mounter) Mount(path string, h http.Handler) (func(), error) {
	m.path = path
	return func() { m.path = "" }, nil
}

func TestSharedServer(t *testing.T) {
	e := Endpoint{}
	e.FillHTTPDefaults("/hooks/x")
	var tr component.Tracker
	s := NewServer("s", &tr, &e, nil, http.NotFound)
	if err := s.Start(context.Background()); err == nil || tr.Health().State != component.Failed {
		t.Fatalf("started without a shared server: %v, %v", err, tr.Health().State)
	}
	m := &mounter{}
	s = NewServer("s", &tr, &e, m, http.NotFound)
	if err := s.Start(context.Background()); err != nil || m.path != "/hooks/x" {
		t.Fatalf("mount: %v, path %q", err, m.path)
	}
	_ = s.Stop(context.Background())
	if m.path != "" {
		t.Fatal("still mounted after Stop")
	}
}
