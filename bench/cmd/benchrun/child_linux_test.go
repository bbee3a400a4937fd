package main

import (
	"os/exec"
	"runtime"
	"testing"
	"time"
)

// A child's parent-death signal fires when the thread that started it
// exits. The runner ends threads (the in-process load generator's pacer),
// so children must be started from a thread that lives as long as the
// runner.
func TestChildOutlivesTheThreadThatStartedIt(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep binary")
	}
	dir := t.TempDir()
	// Several goroutines, so that at least one runs on a thread that ends
	// (the main thread is kept, not ended, when its goroutine exits locked).
	const n = 4
	children := make(chan *child, n)
	for range n {
		go func() {
			runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
			c, err := startChild("sleep", dir, sleep, "30")
			if err != nil {
				t.Error(err)
			}
			children <- c
		}()
	}
	var cs []*child
	for range n {
		if c := <-children; c != nil {
			cs = append(cs, c)
			defer c.stop(time.Second)
		}
	}
	time.Sleep(200 * time.Millisecond)
	for _, c := range cs {
		if c.exited() {
			t.Fatalf("a child died with the thread that asked for it: %v", c.waitErr)
		}
	}
}
