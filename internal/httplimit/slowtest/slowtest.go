// Package slowtest runs slow HTTP clients against a listener, for the
// tests of every server that must cut them (read_timeout) and cap them
// (max_connections).
package slowtest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// Run opens n connections to addr, each sending a POST to path with a
// 1000-byte body it dribbles one byte every 100ms, and returns how many
// got each status (0: no answer) once the server has closed them all, or
// ctx has ended.
func Run(ctx context.Context, addr, path string, n int) map[int]int {
	var mu sync.Mutex
	got := map[int]int{}
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code := one(ctx, addr, path)
			mu.Lock()
			got[code]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	return got
}

func one(ctx context.Context, addr, path string) int {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return 0
	}
	defer conn.Close()
	head := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: bridge\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n", path)
	if _, err := io.WriteString(conn, head); err != nil {
		return 0
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				_ = conn.Close()
				return
			case <-tick.C:
				if _, err := conn.Write([]byte("1")); err != nil {
					return
				}
			}
		}
	}()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}
