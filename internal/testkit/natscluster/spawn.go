package natscluster

import (
	"os/exec"
	"runtime"
)

// Children are started from one OS thread that never exits, with
// childAttr's parent-death signal where the OS has one: the kernel sends
// it when the thread that started the child ends, so the thread must
// outlive them all, and then no server or replica outlives a test binary
// that was killed.
var spawns = make(chan spawn)

type spawn struct {
	cmd  *exec.Cmd
	done chan error
}

func init() {
	go func() {
		runtime.LockOSThread() // never unlocked
		for s := range spawns {
			s.done <- s.cmd.Start()
		}
	}()
}

func startCmd(cmd *exec.Cmd) error {
	cmd.SysProcAttr = childAttr()
	s := spawn{cmd: cmd, done: make(chan error, 1)}
	spawns <- s
	return <-s.done
}
