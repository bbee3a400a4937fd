package natscluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Replica is one eventbridge process of a deployment on the cluster.
type Replica struct {
	proc
	// Name is its instance.name.
	Name string
	// Addr is its api.listen address (host:port).
	Addr string
}

// ReplicaConfig returns the config of a replica named name listening on
// addr, on the bus at busURL with R3 streams (bus.replicas: 3); busExtra
// is more YAML fields of the bus map ("prefix: a, ack_wait: 2s"), body
// the rest of the file (sources, targets, rules, jobs...).
func ReplicaConfig(name, addr, busURL, busExtra, body string) string {
	if busExtra != "" {
		busExtra = ", " + busExtra
	}
	return fmt.Sprintf("instance: {name: %s}\nbus: {url: %q, replicas: 3%s}\napi: {listen: %q}\nshutdown_timeout: 5s\nlog: {level: info}\n%s",
		name, busURL, busExtra, addr, body)
}

// StartReplica writes config under dir and starts the bridge on it, then
// waits for /readyz (see Start). addr must be the config's api.listen.
func StartReplica(ctx context.Context, bridge, dir, name, addr, config string) (*Replica, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	cfg := filepath.Join(dir, name+".yaml")
	if err := os.WriteFile(cfg, []byte(config), 0o600); err != nil {
		return nil, err
	}
	r := &Replica{Name: name, Addr: addr,
		proc: proc{bin: bridge, args: []string{"serve", "--config", cfg}, logPath: filepath.Join(dir, name+".log")}}
	if err := r.Start(ctx); err != nil {
		_ = r.Kill()
		return r, err // r for its log
	}
	return r, nil
}

// Start starts the process (again) and waits up to 60s for /readyz to
// answer 200.
func (r *Replica) Start(ctx context.Context) error {
	if err := r.start(); err != nil {
		return err
	}
	return r.WaitReady(ctx, 60*time.Second)
}

// WaitReady waits for /readyz to answer 200; it fails at once when the
// process exits.
func (r *Replica) WaitReady(ctx context.Context, within time.Duration) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	err := poll(ctx, within, func() (bool, string) {
		if !r.running() {
			cancel(errors.New("the process exited"))
			return false, "the process exited"
		}
		code, err := r.get(ctx, "/readyz", nil)
		if err != nil {
			return false, err.Error()
		}
		return code == http.StatusOK, fmt.Sprintf("/readyz %d", code)
	})
	if cause := context.Cause(ctx); cause != nil && err != nil {
		err = cause
	}
	if err != nil {
		return fmt.Errorf("replica %s not ready: %w", r.Name, err)
	}
	return nil
}

// Kill sends SIGKILL.
func (r *Replica) Kill() error { return r.signal(syscall.SIGKILL, 10*time.Second) }

// Stop sends SIGTERM: a graceful shutdown.
func (r *Replica) Stop() error { return r.signal(syscall.SIGTERM, 30*time.Second) }

// Running reports whether the process is alive.
func (r *Replica) Running() bool { return r.running() }

// URL is the base URL of its API.
func (r *Replica) URL() string { return "http://" + r.Addr }

var apiClient = &http.Client{Timeout: 5 * time.Second}

// get fetches path and, when body is not nil, reads up to 4MiB into it.
func (r *Replica) get(ctx context.Context, path string, body *[]byte) (int, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, r.URL()+path, nil)
	resp, err := apiClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if body != nil {
		*body = b
	}
	return resp.StatusCode, err
}

// Get fetches path from the replica's API: status and body (up to 4MiB).
func (r *Replica) Get(ctx context.Context, path string) (int, []byte, error) {
	var b []byte
	code, err := r.get(ctx, path, &b)
	return code, b, err
}
