package procstat

import (
	"os"
	"runtime"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	// The command name holds spaces and a parenthesis; utime 250, stime 50.
	stat := "1234 (my (odd) prog) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 8 0 100 0 0\n"
	got, err := parseStat([]byte(stat))
	if err != nil || got != 3*time.Second {
		t.Fatalf("parseStat = %v, %v; want 3s", got, err)
	}
	if _, err := parseStat([]byte("1234 (x) S 1 2")); err == nil {
		t.Fatal("short stat accepted")
	}
}

func TestParseStatus(t *testing.T) {
	status := "Name:\tforwarder\nVmPeak:\t  900000 kB\nVmHWM:\t   15968 kB\nVmRSS:\t   15128 kB\nThreads:\t7\n"
	m, err := parseStatus([]byte(status))
	if err != nil || m.HWM != 15968<<10 || m.RSS != 15128<<10 {
		t.Fatalf("parseStatus = %+v, %v", m, err)
	}
	if _, err := parseStatus([]byte("Name:\tx\n")); err == nil {
		t.Fatal("status without Vm lines accepted")
	}
}

func TestOwnProcess(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	pid := os.Getpid()
	if _, err := CPU(pid); err != nil {
		t.Fatal(err)
	}
	m, err := Mem(pid)
	if err != nil || m.RSS == 0 || m.HWM < m.RSS {
		t.Fatalf("Mem = %+v, %v", m, err)
	}
	s := StartSampler(pid, time.Millisecond)
	if got := s.Stop(); got == 0 {
		t.Fatal("sampler saw no RSS")
	}
	s.Stop()
}

func TestTaskTimes(t *testing.T) {
	// flags 4194560 (no kernel-thread bit), utime 250, stime 50, cutime 7, cstime 3.
	user := "1234 (my (odd) prog) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 7 3 20 0 8 0 100 0 0\n"
	tt, kernel, err := parseTaskTimes([]byte(user))
	if err != nil || kernel || tt.own != 3*time.Second || tt.children != 100*time.Millisecond {
		t.Fatalf("parseTaskTimes = %+v, %v, %v", tt, kernel, err)
	}
	kthread := "2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 5 0 0 20 0 1 0 1 0 0\n"
	if _, kernel, err := parseTaskTimes([]byte(kthread)); err != nil || !kernel {
		t.Fatalf("kthreadd: kernel %v, %v", kernel, err)
	}

	s := time.Second
	prev := Tasks{
		1: {own: s},                      // runs 1s more
		2: {own: s, children: s},         // parent of 5
		3: {own: 5 * s},                  // skipped
		5: {own: 10 * s},                 // runs 2s more, exits, reaped by 2
		6: {own: 7 * s, children: 3 * s}, // skipped parent of skipped 7
	}
	now := Tasks{
		1: {own: 2 * s},
		2: {own: s, children: 13 * s},
		3: {own: 9 * s},
		4: {own: 4 * s}, // started in the window
		6: {own: 7 * s, children: 9 * s},
	}
	if got := now.CPUSince(prev, 3, 6); got != 7*s {
		t.Fatalf("CPUSince = %v, want 1+2+4 = 7s", got)
	}
	if got := prev.CPUSince(now, 3, 6); got != 0 {
		t.Fatalf("CPUSince backwards = %v, want 0", got)
	}
	if runtime.GOOS == "linux" {
		snap, err := SnapshotTasks()
		if _, ok := snap[os.Getpid()]; err != nil || !ok {
			t.Fatalf("SnapshotTasks: %d tasks, own pid found %v, %v", len(snap), ok, err)
		}
	}
}
