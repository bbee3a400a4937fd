//go:build !linux

package cli

// releaseStartupPages does nothing outside Linux.
func releaseStartupPages() int64 { return 0 }
