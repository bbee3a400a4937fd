package main

import "syscall"

// childAttr makes the kernel kill a child if the runner dies without
// cleaning up (e.g. kill -9), so no benchmark process outlives it.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
