// Package procstat reads a process's CPU time and memory from Linux's /proc.
// On other systems every read fails with ErrUnsupported, and the benchmark
// reports those columns as unavailable.
package procstat

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"time"
)

// ErrUnsupported is returned where /proc is not available.
var ErrUnsupported = errors.New("procstat: /proc is only read on linux")

// userHZ is the unit of the CPU times in /proc/<pid>/stat. It is fixed at
// 100 in Linux's user-space ABI on every architecture Go supports.
const userHZ = 100

// CPU returns the user plus system CPU time that process pid has used.
func CPU(pid int) (time.Duration, error) {
	b, err := read(pid, "stat")
	if err != nil {
		return 0, err
	}
	return parseStat(b)
}

// Memory is a process's resident set size now and at its peak, in bytes.
type Memory struct {
	RSS uint64 // VmRSS
	HWM uint64 // VmHWM, the peak RSS over the process's life
}

// Mem returns process pid's current and peak resident memory.
func Mem(pid int) (Memory, error) {
	b, err := read(pid, "status")
	if err != nil {
		return Memory{}, err
	}
	return parseStatus(b)
}

func read(pid int, file string) ([]byte, error) {
	if runtime.GOOS != "linux" {
		return nil, ErrUnsupported
	}
	return os.ReadFile(fmt.Sprintf("/proc/%d/%s", pid, file))
}

// parseStat reads utime and stime (fields 14 and 15) from /proc/<pid>/stat.
// Fields are counted after the command name, which is in parentheses and
// may itself contain spaces or parentheses.
func parseStat(b []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("procstat: malformed stat %q", b)
	}
	f := bytes.Fields(b[i+1:]) // f[0] is field 3, the state
	if len(f) < 13 {
		return 0, fmt.Errorf("procstat: short stat %q", b)
	}
	var ticks uint64
	for _, s := range f[11:13] {
		n, err := strconv.ParseUint(string(s), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("procstat: stat: %w", err)
		}
		ticks += n
	}
	return time.Duration(ticks) * (time.Second / userHZ), nil
}

// parseStatus reads VmRSS and VmHWM (in kB) from /proc/<pid>/status.
func parseStatus(b []byte) (Memory, error) {
	var m Memory
	var found int
	for line := range bytes.Lines(b) {
		var dst *uint64
		switch {
		case bytes.HasPrefix(line, []byte("VmRSS:")):
			dst = &m.RSS
		case bytes.HasPrefix(line, []byte("VmHWM:")):
			dst = &m.HWM
		default:
			continue
		}
		f := bytes.Fields(line)
		if len(f) < 2 {
			return m, fmt.Errorf("procstat: malformed %q", line)
		}
		kb, err := strconv.ParseUint(string(f[1]), 10, 64)
		if err != nil {
			return m, fmt.Errorf("procstat: status: %w", err)
		}
		*dst = kb << 10
		found++
	}
	if found < 2 {
		return m, errors.New("procstat: VmRSS or VmHWM missing from status")
	}
	return m, nil
}
