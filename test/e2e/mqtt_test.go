package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/testkit"
)

// Proof with third-party clients: mosquitto_pub publishes CloudEvents
// (structured, binary with MQTT 5 user properties, and a plain message
// the source wraps) into a running bridge's mqtt source; mosquitto_sub
// reads what the bridge's mqtt targets publish, in binary mode (MQTT 5)
// and in structured mode (MQTT 3.1.1). Against the machine's Mosquitto.
func TestIntegrationMosquittoClients(t *testing.T) {
	for _, tool := range []string{"mosquitto_pub", "mosquitto_sub"} {
		testkit.NeedTool(t, tool, "Debian package mosquitto-clients")
	}
	testkit.NeedTCP(t, "127.0.0.1:1883", "Mosquitto")

	base := fmt.Sprintf("ebe2e/%d", time.Now().UnixNano())
	addr := freeAddr(t)
	cfg := writeConfig(t, addr, fmt.Sprintf(`
sources:
  m-in:
    type: mqtt
    url: mqtt://127.0.0.1:1883
    client_id: %[1]s-src
    topics: ["%[2]s/in/#"]
    wrap: {type: com.example.mqtt.raw, source: /mosquitto/raw}
targets:
  m-bin:
    type: mqtt
    url: mqtt://127.0.0.1:1883
    topic: "%[2]s/out5/{type}"
    mode: binary
  m-311:
    type: mqtt
    url: mqtt://127.0.0.1:1883
    version: "3.1.1"
    topic: "%[2]s/out311/{type}"
rules:
  all:
    sources: [m-in]
    targets: [m-bin, m-311]
`, strings.ReplaceAll(base, "/", "-"), base))
	start(t, cfg, addr)

	v5 := mosquittoSubscribe(t, "5", base+"/out5/#", base+"/probe5")
	v311 := mosquittoSubscribe(t, "311", base+"/out311/#", base+"/probe311")
	v5.waitReady(t, base+"/probe5")
	v311.waitReady(t, base+"/probe311")

	in := base + "/in/x"
	structured := `{"specversion":"1.0","id":"e2e-s-1","source":"/mosquitto","type":"com.example.mqtt.structured","datacontenttype":"application/json","data":{"n":1}}`
	pub(t, "-V", "5", "-t", in, "-D", "publish", "content-type", "application/cloudevents+json", "-m", structured)
	pub(t, "-V", "5", "-t", in, "-D", "publish", "content-type", "application/json",
		"-D", "publish", "user-property", "specversion", "1.0", "-D", "publish", "user-property", "id", "e2e-b-1",
		"-D", "publish", "user-property", "source", "/mosquitto", "-D", "publish", "user-property", "type", "com.example.mqtt.binary",
		"-m", `{"n":2}`)
	pub(t, "-V", "311", "-t", in, "-m", "21.5")

	// MQTT 5, binary: attributes in user properties, data as the payload.
	got5 := map[string]string{}
	for i := 0; i < 3; i++ {
		line := v5.next(t)
		parts := strings.SplitN(line, "|", 4)
		if len(parts) != 4 {
			t.Fatalf("mosquitto_sub -V 5 printed %q", line)
		}
		props := " " + parts[2] + " "
		typ := parts[0][strings.LastIndex(parts[0], "/")+1:]
		if !strings.Contains(props, " specversion:1.0 ") || !strings.Contains(props, " type:"+typ+" ") {
			t.Errorf("binary message on %s without its attributes: %q", parts[0], parts[2])
		}
		got5[typ] = parts[1] + "|" + parts[3]
	}
	want5 := map[string]string{
		"com.example.mqtt.structured": `application/json|{"n":1}`,
		"com.example.mqtt.binary":     `application/json|{"n":2}`,
		"com.example.mqtt.raw":        `application/octet-stream|21.5`,
	}
	for typ, want := range want5 {
		if got5[typ] != want {
			t.Errorf("v5 %s: got %q, want %q", typ, got5[typ], want)
		}
	}

	t.Logf("v5: %v", got5)
	// MQTT 3.1.1, structured: the JSON event format as the payload.
	got311 := map[string]map[string]any{}
	for i := 0; i < 3; i++ {
		line := v311.next(t)
		topic, payload, _ := strings.Cut(line, "|")
		var ev map[string]any
		if err := json.Unmarshal([]byte(payload), &ev); err != nil {
			t.Fatalf("3.1.1 payload on %s is not JSON: %q", topic, payload)
		}
		got311[fmt.Sprint(ev["type"])] = ev
	}
	if ev := got311["com.example.mqtt.structured"]; ev == nil || ev["id"] != "e2e-s-1" || fmt.Sprint(ev["data"]) != "map[n:1]" {
		t.Errorf("structured event: %v", ev)
	}
	if ev := got311["com.example.mqtt.binary"]; ev == nil || ev["id"] != "e2e-b-1" || ev["source"] != "/mosquitto" || fmt.Sprint(ev["data"]) != "map[n:2]" {
		t.Errorf("binary event: %v", ev)
	}
	if ev := got311["com.example.mqtt.raw"]; ev == nil || ev["subject"] != in || ev["data_base64"] == nil && ev["data"] != "21.5" {
		t.Errorf("wrapped message: %v", ev)
	}
}

// sub is a running mosquitto_sub printing "topic|content-type|user
// properties|payload" (MQTT 5) or "topic|payload" (3.1.1) lines.
type sub struct {
	lines chan string
}

func mosquittoSubscribe(t *testing.T, version string, topics ...string) *sub {
	t.Helper()
	format := "%t|%C|%P|%p"
	if version == "311" {
		format = "%t|%p"
	}
	args := []string{"-V", version, "-F", format, "-W", "120"}
	for _, tp := range topics {
		args = append(args, "-t", tp)
	}
	cmd := exec.Command("mosquitto_sub", args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	s := &sub{lines: make(chan string, 100)}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			s.lines <- sc.Text()
		}
		close(s.lines)
	}()
	return s
}

// waitReady publishes to probe until the subscriber prints it.
func (s *sub) waitReady(t *testing.T, probe string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		pub(t, "-t", probe, "-m", "probe")
		select {
		case line := <-s.lines:
			if strings.HasPrefix(line, probe+"|") {
				return
			}
			t.Fatalf("unexpected line before the probe: %q", line)
		case <-time.After(200 * time.Millisecond):
		}
	}
	t.Fatalf("mosquitto_sub never saw %s", probe)
}

func (s *sub) next(t *testing.T) string {
	t.Helper()
	select {
	case line, ok := <-s.lines:
		if !ok {
			t.Fatal("mosquitto_sub exited")
		}
		return line
	case <-time.After(30 * time.Second):
		t.Fatal("nothing arrived through the bridge within 30s")
	}
	return ""
}

func pub(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("mosquitto_pub", args...).CombinedOutput(); err != nil {
		t.Fatalf("mosquitto_pub %v: %v: %s", args, err, out)
	}
}
