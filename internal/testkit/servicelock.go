package testkit

import (
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
)

// LockService holds a lock named after a shared local service (RabbitMQ,
// PostgreSQL) until the test ends. Some integration tests restart such a
// service to prove that connectors reconnect, and go test runs packages in
// parallel processes: without the lock, one package's restart cuts another
// package's test off mid-stream. The lock is a flock(2) on a file in the
// temporary directory, so it holds across the test binaries; inside one
// process it is shared by every test that asks for it (tests of one package
// that run in parallel are that package's own business).
func LockService(t testing.TB, name string) {
	t.Helper()
	serviceLocks.Lock()
	defer serviceLocks.Unlock()
	l := serviceLocks.held[name]
	if l == nil {
		f, err := os.OpenFile(filepath.Join(os.TempDir(), "eventbridge-test-"+name+".lock"), os.O_CREATE|os.O_RDWR, 0o666)
		if err != nil {
			t.Fatalf("lock %s: %v", name, err)
		}
		// Blocks while a test of another package holds the service.
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
			f.Close()
			t.Fatalf("lock %s: %v", name, err)
		}
		l = &serviceLock{f: f}
		serviceLocks.held[name] = l
	}
	l.refs++
	t.Cleanup(func() {
		serviceLocks.Lock()
		defer serviceLocks.Unlock()
		if l.refs--; l.refs == 0 {
			delete(serviceLocks.held, name)
			_ = syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
			l.f.Close()
		}
	})
}

type serviceLock struct {
	f    *os.File
	refs int
}

var serviceLocks = struct {
	sync.Mutex
	held map[string]*serviceLock
}{held: map[string]*serviceLock{}}
