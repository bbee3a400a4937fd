// Package e2e runs the built eventbridge binary against real traffic: it
// sends events, kills the process, restarts it and counts what arrived.
package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// bin is the eventbridge binary under test: $EVENTBRIDGE_BIN (set by make
// test), or one built into a temp dir.
var bin string

func TestMain(m *testing.M) {
	code := func() int {
		bin = os.Getenv("EVENTBRIDGE_BIN")
		if bin == "" {
			dir, err := os.MkdirTemp("", "eventbridge-e2e")
			if err != nil {
				panic(err)
			}
			defer os.RemoveAll(dir)
			bin = filepath.Join(dir, "eventbridge")
			out, err := exec.Command("go", "build", "-o", bin, "../../cmd/eventbridge").CombinedOutput()
			if err != nil {
				fmt.Fprintf(os.Stderr, "build: %v\n%s", err, out)
				return 1
			}
		}
		return m.Run()
	}()
	os.Exit(code)
}

// proc is a running bridge process.
type proc struct {
	t       *testing.T
	cfgPath string
	addr    string
	cmd     *exec.Cmd
	logPath string
	extra   []string // more arguments of serve
}

// freeAddr returns a loopback address with a free port.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// writeConfig writes a config whose api.listen and bus.data_dir are set by
// the test; body holds sources, targets and rules.
func writeConfig(t *testing.T, addr, body string) string {
	t.Helper()
	dir := t.TempDir()
	cfg := fmt.Sprintf("bus: {data_dir: %q, ack_wait: 2s}\napi: {listen: %q}\nshutdown_timeout: 5s\nlog: {level: warn}\n%s",
		filepath.Join(dir, "data"), addr, body)
	path := filepath.Join(dir, "eventbridge.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// start runs the binary and waits until /readyz answers 200 on addr.
// extra are more arguments of serve.
func start(t *testing.T, cfgPath, addr string, extra ...string) *proc {
	t.Helper()
	p := &proc{t: t, cfgPath: cfgPath, addr: addr, logPath: cfgPath + ".log", extra: extra}
	p.run()
	t.Cleanup(func() { p.kill() })
	return p
}

func (p *proc) run() {
	p.t.Helper()
	logf, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		p.t.Fatal(err)
	}
	defer logf.Close()
	p.cmd = exec.Command(bin, append([]string{"serve", "--config", p.cfgPath}, p.extra...)...)
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	if err := p.cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + p.addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.t.Fatalf("bridge not ready after 30s; log:\n%s", p.log())
}

// kill sends SIGKILL and waits for the process to exit.
func (p *proc) kill() {
	if p.cmd == nil || p.cmd.Process == nil || p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	_ = p.cmd.Wait()
}

// restart kills the process (SIGKILL) and starts it again.
func (p *proc) restart() {
	p.kill()
	p.run()
}

// stop sends SIGTERM and waits.
func (p *proc) stop() error {
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	return p.cmd.Wait()
}

func (p *proc) log() string {
	b, _ := os.ReadFile(p.logPath)
	return string(b)
}

// post sends a binary-mode event and returns the status (0 on a
// connection error).
func post(client *http.Client, addr, id string) int {
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/events", strings.NewReader(`{"id":"`+id+`"}`))
	req.Header.Set("ce-specversion", "1.0")
	req.Header.Set("ce-id", id)
	req.Header.Set("ce-source", "/e2e")
	req.Header.Set("ce-type", "com.example.e2e")
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}
