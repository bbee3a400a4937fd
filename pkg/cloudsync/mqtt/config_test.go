package mqtt

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestConfig(t *testing.T) {
	c, err := ParseConfig([]byte(`
brokerHost: broker.example.com:8883
username: maestro
password: secret
keepAlive: 30
dialTimeout: 5s
pubQoS: 0
subQoS: 2
topics:
  sourceEvents: sources/maestro/consumers/+/sourceevents
  agentEvents: $share/statussubscribers/sources/maestro/consumers/+/agentevents
  sourceBroadcast: sources/+/sourcebroadcast
  agentBroadcast: clusters/+/agentbroadcast
`))
	if err != nil {
		t.Fatal(err)
	}
	o, err := c.Options()
	if err != nil {
		t.Fatal(err)
	}
	if o.BrokerHost != "broker.example.com:8883" || o.Username != "maestro" || o.Password != "secret" || o.KeepAlive != 30 ||
		o.DialTimeout != 5*time.Second || o.PubQoS != 0 || o.SubQoS != 2 || o.Topics != ocmTopics || o.TLSConfig != nil {
		t.Errorf("options %+v", o)
	}

	// defaults
	c, err = ParseConfig([]byte("broker: 127.0.0.1:1883\ntopics: {sourceEvents: sources/a/clusters/+/sourceevents, agentEvents: sources/a/clusters/+/agentevents}\ndialTimeout: 1000000000\n"))
	if err != nil {
		t.Fatal(err)
	}
	o, err = c.Options()
	if err != nil {
		t.Fatal(err)
	}
	if o.BrokerHost != "127.0.0.1:1883" || o.KeepAlive != 60 || o.PubQoS != 1 || o.SubQoS != 1 || o.DialTimeout != time.Second {
		t.Errorf("defaults %+v", o)
	}
	c.DialTimeout = nil
	if o, _ := c.Options(); o.DialTimeout != 60*time.Second {
		t.Errorf("default dial timeout %v", o.DialTimeout)
	}
}

func TestConfigErrors(t *testing.T) {
	dir := t.TempDir()
	bogus := filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(bogus, []byte("not pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	topics := "topics: {sourceEvents: sources/a/clusters/+/sourceevents, agentEvents: sources/a/clusters/+/agentevents}\n"
	cases := []struct{ yaml, want string }{
		{topics, "brokerHost"},
		{"brokerHost: h:1\n", "topics"},
		{"brokerHost: h:1\ntopics: {sourceEvents: x, agentEvents: sources/a/clusters/+/agentevents}\n", "topics.sourceEvents"},
		{"brokerHost: h:1\npubQoS: 3\n" + topics, "pubQoS"},
		{"brokerHost: h:1\nclientCertFile: a.crt\n" + topics, "clientKeyFile"},
		{"brokerHost: h:1\ncaFile: " + bogus + "\n" + topics, "caFile"},
		{"brokerHost: h:1\ncaFile: " + filepath.Join(dir, "missing") + "\n" + topics, "caFile"},
	}
	for _, c := range cases {
		cfg, err := ParseConfig([]byte(c.yaml))
		if err != nil {
			t.Errorf("%q: parse: %v", c.yaml, err)
			continue
		}
		if _, err := cfg.Options(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: Options() = %v, want an error naming %s", c.yaml, err, c.want)
		}
	}
	if _, err := ParseConfig([]byte("dialTimeout: soon\n")); err == nil {
		t.Error("a bad duration parsed")
	}
	if _, err := LoadConfig(filepath.Join(dir, "none.yaml")); err == nil {
		t.Error("a missing file loaded")
	}
}
