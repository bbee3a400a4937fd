//go:build linux || darwin || freebsd

package bus

import "syscall"

// statfs returns the size and the free bytes (for unprivileged users) of
// the filesystem that holds dir.
func statfs(dir string) (total, free int64, err error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, 0, err
	}
	bs := int64(st.Bsize) // int32, int64 or uint32 by platform
	return int64(st.Blocks) * bs, int64(st.Bavail) * bs, nil
}
