package e2e

import (
	"errors"
	"fmt"
	"net/http"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

// SIGTERM stops intake, lets deliveries in flight finish, and leaves the
// rest in the bus: after a restart, everything arrives.
func TestGracefulShutdownKeepsTheRest(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	sink := testkit.NewSink(t)
	sink.SetDelay(300 * time.Millisecond)
	addr := freeAddr(t)
	cfg := writeConfig(t, addr, fmt.Sprintf(`
sources: {in: {type: http, path: /events}}
targets: {sink: {type: http, url: %q}}
rules: {all: {targets: [sink], delivery: {concurrency: 2, queue_size: 100}}}
`, sink.URL))
	p := start(t, cfg, addr)
	client := &http.Client{Timeout: 5 * time.Second}
	const n = 40
	for i := 0; i < n; i++ {
		if code := post(client, addr, fmt.Sprintf("g%d", i)); code != http.StatusAccepted {
			t.Fatalf("status %d", code)
		}
	}
	testkit.Eventually(t, 5*time.Second, func() bool { return sink.Attempts() >= 2 }, "no delivery started")
	began := time.Now()
	if err := p.stop(); err != nil {
		t.Fatalf("exit: %v\n%s", err, p.log())
	}
	// Only the deliveries in flight (2 workers, 300ms each) are finished;
	// the queued ones are given back at once.
	if took := time.Since(began); took > 3*time.Second {
		t.Fatalf("shutdown took %s; it should finish the in-flight deliveries and give back the rest", took)
	}
	delivered := sink.Distinct()
	t.Logf("delivered %d of %d before stopping", delivered, n)
	if delivered >= n-10 {
		t.Fatalf("%d of %d delivered before stopping: queued deliveries were not given back", delivered, n)
	}
	if code := post(client, addr, "after-stop"); code != 0 {
		t.Fatalf("bridge still accepting after stop: %d", code)
	}
	p.run()
	testkit.Eventually(t, 30*time.Second, func() bool { return sink.Distinct() == n }, "after restart the sink has %d of %d", sink.Distinct(), n)
}

// A second signal exits at once, even with deliveries stuck.
func TestSecondSignalExitsAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	sink := testkit.NewSink(t)
	sink.Block()
	addr := freeAddr(t)
	cfg := writeConfig(t, addr, fmt.Sprintf(`
sources: {in: {type: http, path: /events}}
targets: {sink: {type: http, url: %q, timeout: 60s}}
rules: {all: {targets: [sink]}}
`, sink.URL))
	p := start(t, cfg, addr)
	if code := post(&http.Client{Timeout: 5 * time.Second}, addr, "stuck"); code != http.StatusAccepted {
		t.Fatalf("status %d", code)
	}
	testkit.Eventually(t, 5*time.Second, func() bool { return sink.Attempts() == 1 }, "delivery did not start")
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	time.Sleep(300 * time.Millisecond)
	began := time.Now()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	err := p.cmd.Wait()
	if took := time.Since(began); took > 2*time.Second {
		t.Fatalf("second signal: exit took %s", took)
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("exit = %v, want status 130", err)
	}
}
