package jobstest

import (
	"context"
	"testing"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
	"github.com/eventbridge-dev/eventbridge/internal/jobs"
	"github.com/eventbridge-dev/eventbridge/internal/jobs/jobsbus"
)

// OpenStore opens the bus kept in dir (a test's "bridge", opened again
// after a restart) and the jobs' state in it. The caller closes the bus.
func OpenStore(t testing.TB, dir string) (*bus.Bus, jobs.Store) {
	t.Helper()
	cfg := bus.Config{DataDir: dir}
	cfg.Defaults()
	b, err := bus.Open(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	state, _, err := jobsbus.Open(context.Background(), b, jobs.Config{LeaseTTL: 15e9})
	if err != nil {
		b.Close()
		t.Fatal(err)
	}
	return b, state
}
