package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

// oranSink is a consumer like cloud-event-proxy's example: POST /event
// answers 204. It counts the events it got by their first value.
type oranSink struct {
	mu     sync.Mutex
	values map[string]int
	posts  int
}

func (s *oranSink) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/event" {
		http.NotFound(w, r)
		return
	}
	b, _ := io.ReadAll(r.Body)
	var ev struct {
		Data struct {
			Values []struct {
				Value any `json:"value"`
			} `json:"values"`
		} `json:"data"`
	}
	s.mu.Lock()
	s.posts++
	if json.Unmarshal(b, &ev) == nil && len(ev.Data.Values) > 0 {
		s.values[fmt.Sprint(ev.Data.Values[0].Value)]++
	}
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (s *oranSink) has(v string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.values[v] > 0
}

func oranReq(method, url, body string) (int, []byte) {
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestOranKill: a consumer subscribes through the O-RAN v2 API and gets
// the initial notification; events come through /create/event and
// through an HTTP source; the bridge is killed with SIGKILL and started
// again on the same data directory. The subscription is still there,
// CurrentState answers the last event, and every event acknowledged
// before or after the kill reaches the consumer.
func TestOranKill(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	const addr = "/east-edge-10/Node3/sync/sync-status/sync-state"
	sink := &oranSink{values: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(sink.serve))
	defer srv.Close()
	apiAddr, oranAddr := freeAddr(t), freeAddr(t)
	cfg := writeConfig(t, apiAddr, fmt.Sprintf(`
sources: {in: {type: http, path: /events}}
oran: {listen: %q}
`, oranAddr))
	// writeConfig has written api:; allow the loopback consumer.
	cfgText := strings.Replace(readFile(t, cfg), "api: {listen:", "api: {allow_private_addresses: true, listen:", 1)
	writeFile(t, cfg, cfgText)
	p := start(t, cfg, apiAddr)
	v2 := "http://" + oranAddr + "/api/ocloudNotifications/v2/"

	// The events of the HTTP source carry the data object with v1 keys.
	viaSource := func(value string) int {
		req, _ := http.NewRequest(http.MethodPost, "http://"+apiAddr+"/events", strings.NewReader(
			`{"version":"1.0","values":[{"resource":"`+addr+`","dataType":"notification","valueType":"enumeration","value":"`+value+`"}]}`))
		req.Header.Set("ce-specversion", "1.0")
		req.Header.Set("ce-id", value)
		req.Header.Set("ce-source", addr)
		req.Header.Set("ce-type", "event.sync.sync-status.synchronization-state-change")
		req.Header.Set("Content-Type", "application/json")
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := viaSource("initial"); code/100 != 2 {
		t.Fatalf("initial state: %d", code)
	}
	var code int
	var body []byte
	testkit.Eventually(t, 60*time.Second, func() bool {
		code, body = oranReq("POST", v2+"subscriptions", `{"ResourceAddress":"`+addr+`","EndpointUri":"`+srv.URL+`/event"}`)
		return code == http.StatusCreated
	}, "subscribe: %d %s", code, body)
	var sub struct{ SubscriptionId string }
	_ = json.Unmarshal(body, &sub)
	if !sink.has("initial") {
		t.Fatal("no initial notification")
	}
	code, body = oranReq("POST", v2+"publishers", `{"ResourceAddress":"`+addr+`","EndpointUri":"`+srv.URL+`/event"}`)
	if code != http.StatusCreated {
		t.Fatalf("publisher: %d %s", code, body)
	}
	var pub struct{ SubscriptionId string }
	_ = json.Unmarshal(body, &pub)
	viaAPI := func(value string) int {
		c, _ := oranReq("POST", v2+"create/event", `{"id":"`+pub.SubscriptionId+`","type":"event.sync.sync-status.synchronization-state-change","source":"`+addr+`","time":"`+time.Now().UTC().Format(time.RFC3339Nano)+`","data":{"version":"1.0","values":[{"ResourceAddress":"`+addr+`","data_type":"notification","value_type":"enumeration","value":"`+value+`"}]}}`)
		return c
	}

	// Two producers, one per path, send while the bridge is killed; each
	// retries until the bridge acknowledges.
	const perSender = 150
	var (
		mu    sync.Mutex
		acked []string
		wg    sync.WaitGroup
	)
	for s, send := range []func(string) int{viaSource, viaAPI} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perSender; i++ {
				v := fmt.Sprintf("v%d-%04d", s, i)
				for attempt := 0; ; attempt++ {
					if c := send(v); c/100 == 2 {
						break
					}
					if attempt > 3000 {
						t.Errorf("event %s never accepted", v)
						return
					}
					time.Sleep(10 * time.Millisecond)
				}
				mu.Lock()
				acked = append(acked, v)
				mu.Unlock()
			}
		}()
	}
	nAcked := func() int { mu.Lock(); defer mu.Unlock(); return len(acked) }
	testkit.Eventually(t, 120*time.Second, func() bool { return nAcked() >= perSender }, "senders stuck at %d", nAcked())
	t.Logf("SIGKILL after %d acknowledged events", nAcked())
	p.restart()
	wg.Wait()
	testkit.Eventually(t, 120*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, v := range acked {
			if !sink.has(v) {
				return false
			}
		}
		return true
	}, "acknowledged events missing at the consumer")
	// The last event of the address is its current state.
	const last = "final"
	if c := viaAPI(last); c != http.StatusAccepted {
		t.Fatalf("final event: %d", c)
	}

	code, body = oranReq("GET", v2+"subscriptions/"+sub.SubscriptionId, "")
	if code != http.StatusOK || !strings.Contains(string(body), sub.SubscriptionId) {
		t.Fatalf("subscription after the kill: %d %s", code, body)
	}
	testkit.Eventually(t, 60*time.Second, func() bool {
		code, body = oranReq("GET", v2+strings.TrimPrefix(addr, "/")+"/CurrentState", "")
		return code == http.StatusOK && strings.Contains(string(body), `"value":"`+last+`"`)
	}, "CurrentState: %d %s, want the value %s", code, body, last)
	sink.mu.Lock()
	t.Logf("consumer got %d posts for %d acknowledged events", sink.posts, len(acked))
	sink.mu.Unlock()
	if err := p.stop(); err != nil {
		t.Errorf("graceful stop: %v\n%s", err, p.log())
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}
