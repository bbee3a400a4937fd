//go:build !(linux || darwin || freebsd)

package bus

import "errors"

// statfs is not implemented here: the store is then sized as if the disk
// were large, and the guard never sees it full (the server's own limits
// still answer ErrStorageFull).
func statfs(string) (total, free int64, err error) {
	return 0, 0, errors.New("statfs: not supported on this platform")
}
