//go:build linux

package cli

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"syscall"
)

// releaseStartupPages drops this process's mappings of its own executable's
// read-only segments (code, read-only data, the function tables), which
// start-up leaves resident: package initialisers and the one-time start
// touch most of a large binary, and the kernel maps 64 KiB or more around
// each page touched. The pages stay in the page cache; those the bridge
// runs again fault back in (minor faults, no disk read), so what stays
// resident is the code in use. It returns the bytes it released from the
// resident set.
//
// A mapping is released only if it is read-only, private and holds no
// page of its own (smaps "Anonymous: 0 kB"): then its contents are the
// file's, and MADV_DONTNEED changes nothing but residency. A build whose
// loader relocates read-only data (such pages are anonymous) is left alone.
func releaseStartupPages() (released int64) {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return 0
	}
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return 0
	}
	defer f.Close()
	type mapping struct {
		start, end uintptr
		ok         bool
		rss, anon  int64
	}
	var maps []mapping
	cur := -1
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Bytes()
		fields := bytes.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if addr, ok := bytes.CutSuffix(fields[0], []byte(":")); ok {
			// A "Key: value kB" line of the current mapping.
			if cur < 0 || len(fields) < 2 {
				continue
			}
			v, _ := strconv.ParseInt(string(fields[1]), 10, 64)
			switch string(addr) {
			case "Rss":
				maps[cur].rss = v << 10
			case "Anonymous":
				maps[cur].anon = v << 10
			}
			continue
		}
		// A mapping's first line: "start-end perms offset dev inode path".
		cur = -1
		lo, hi, found := bytes.Cut(fields[0], []byte("-"))
		if !found || len(fields) < 6 {
			continue
		}
		s, err1 := strconv.ParseUint(string(lo), 16, 64)
		e, err2 := strconv.ParseUint(string(hi), 16, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		perms := string(fields[1])
		maps = append(maps, mapping{start: uintptr(s), end: uintptr(e),
			ok: string(bytes.Join(fields[5:], []byte(" "))) == exe && (perms == "r-xp" || perms == "r--p")})
		cur = len(maps) - 1
	}
	if sc.Err() != nil {
		return 0
	}
	for _, m := range maps {
		if !m.ok || m.anon != 0 || m.end <= m.start {
			continue
		}
		if _, _, errno := syscall.Syscall(syscall.SYS_MADVISE, m.start, m.end-m.start, syscall.MADV_DONTNEED); errno == 0 {
			released += m.rss
		}
	}
	return released
}
