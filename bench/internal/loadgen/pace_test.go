package loadgen

import (
	"context"
	"testing"
	"time"
)

func TestPacerWaitsUntilTheTime(t *testing.T) {
	done := make(chan struct{})
	go func() { // the pacer may keep its goroutine's thread
		defer close(done)
		p := newPacer()
		defer p.stop()
		at := time.Now().Add(3 * time.Millisecond)
		if !p.wait(context.Background(), at) || time.Now().Before(at) {
			t.Errorf("wait returned before %v", at)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if p.wait(ctx, time.Now().Add(time.Hour)) {
			t.Errorf("wait on a cancelled context returned true")
		}
	}()
	<-done
}
