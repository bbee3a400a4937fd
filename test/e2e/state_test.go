package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

// TestStateSurvivesKill sends events for 40 (source, subject) pairs and
// 4 named keys while the bridge is killed with SIGKILL and restarted, the
// second time right after the last acknowledgement. After the restart on
// the same data directory, GET /v1/state returns for every pair and key
// the last event acknowledged for it: none is missing, none is older.
func TestStateSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	const (
		pairs   = 40 // (source, subject) pairs; each sent by one goroutine in order
		perPair = 60
		senders = 8
		named   = 4 // of the ran source's keys
	)
	addr := freeAddr(t)
	cfg := writeConfig(t, addr, `
sources:
  in: {type: http, path: /events}
  ran: {type: http, path: /ran, state_key: "{clustername}/{resourceid}"}
`)
	p := start(t, cfg, addr)

	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: senders}}
	var (
		mu       sync.Mutex
		lastAck  = map[string]string{} // state key -> id of the last event acknowledged
		nAcked   atomic.Int64
		wg       sync.WaitGroup
		total    = int64((pairs + named) * perPair)
		killedAt = total / 2
	)
	send := func(path, key, id string, attrs ...string) {
		for attempt := 0; ; attempt++ {
			if code := postState(client, addr, path, id, attrs...); code/100 == 2 {
				break
			} else if attempt > 3000 {
				t.Errorf("event %s never accepted (last status %d)", id, code)
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		mu.Lock()
		lastAck[key] = id
		mu.Unlock()
		nAcked.Add(1)
	}
	work := make(chan int)
	for range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range work {
				for i := range perPair {
					id := fmt.Sprintf("k%02d-%03d", k, i)
					if k < pairs {
						src, subj := fmt.Sprintf("/e2e/node-%d", k%10), fmt.Sprintf("sub-%d", k/10)
						send("/events", src+"#"+subj, id, "source", src, "subject", subj)
					} else {
						res := fmt.Sprintf("ens%d", k-pairs)
						send("/ran", "c1/"+res, id, "source", "/e2e/ptp", "clustername", "c1", "resourceid", res)
					}
				}
			}
		}()
	}
	go func() {
		for k := range pairs + named {
			work <- k
		}
		close(work)
	}()
	testkit.Eventually(t, 180*time.Second, func() bool { return nAcked.Load() >= killedAt }, "senders stuck at %d", nAcked.Load())
	t.Logf("SIGKILL at %d acknowledged events", nAcked.Load())
	p.restart()
	wg.Wait()
	// Kill right after the last acknowledgement: what the state had not
	// taken yet must be caught up from the bus.
	p.restart()
	if t.Failed() {
		return
	}
	if len(lastAck) != pairs+named {
		t.Fatalf("%d keys acknowledged, want %d", len(lastAck), pairs+named)
	}

	var (
		got  map[string]string
		diff []string
	)
	for deadline := time.Now().Add(120 * time.Second); ; {
		got, diff = readState(addr), nil
		for key, id := range lastAck {
			if got[key] != id {
				diff = append(diff, fmt.Sprintf("%s: %q, want %q", key, got[key], id))
			}
		}
		if len(diff) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("state after SIGKILL differs from the last acknowledged events (%d keys):\n%s", len(diff), strings.Join(diff, "\n"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	ours := 0
	for key := range got {
		if strings.HasPrefix(key, "/e2e/") || strings.HasPrefix(key, "c1/") {
			ours++
		}
	}
	if ours != pairs+named {
		t.Errorf("state holds %d entries of the test, want %d: %v", ours, pairs+named, got)
	}
	if err := p.stop(); err != nil {
		t.Errorf("graceful stop: %v\n%s", err, p.log())
	}
}

// readState returns GET /v1/state as state key -> event id.
func readState(addr string) map[string]string {
	resp, err := http.Get("http://" + addr + "/v1/state?limit=1000")
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var body struct {
		Items []struct {
			Key   string `json:"key"`
			Event struct {
				ID string `json:"id"`
			} `json:"event"`
		} `json:"items"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&body) != nil {
		return nil
	}
	out := map[string]string{}
	for _, it := range body.Items {
		out[it.Key] = it.Event.ID
	}
	return out
}

// postState sends a binary-mode event with the given ce- attributes and
// returns the status (0 on a connection error).
func postState(client *http.Client, addr, path, id string, attrs ...string) int {
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+path, strings.NewReader(`{"id":"`+id+`"}`))
	req.Header.Set("ce-specversion", "1.0")
	req.Header.Set("ce-id", id)
	req.Header.Set("ce-type", "com.example.state")
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(attrs); i += 2 {
		req.Header.Set("ce-"+attrs[i], attrs[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}
