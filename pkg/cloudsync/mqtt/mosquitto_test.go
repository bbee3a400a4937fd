package mqtt

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventbridge-dev/eventbridge/internal/testkit"
	"github.com/eventbridge-dev/eventbridge/pkg/cloudsync"
	"github.com/eventbridge-dev/eventbridge/pkg/cloudsync/cloudsynctest"
)

// mosquittoAddr is the integration broker (MQTT v5): host:port of
// $EVENTBRIDGE_MQTT_URL or 127.0.0.1:1883.
func mosquittoAddr(t *testing.T) string {
	t.Helper()
	addr := "127.0.0.1:1883"
	if u := os.Getenv("EVENTBRIDGE_MQTT_URL"); u != "" {
		addr = strings.TrimPrefix(strings.TrimPrefix(u, "mqtt://"), "tcp://")
	}
	testkit.NeedTCP(t, addr, "MQTT broker (Mosquitto, Debian package mosquitto)")
	return addr
}

func uniq(t *testing.T) string {
	t.Helper()
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b[:])
}

// proxy forwards TCP connections to a broker; Cut drops them all, and
// while refusing it closes new ones at once: a broker that is away.
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
	refuse bool
	wg     sync.WaitGroup
}

func newProxy(t *testing.T, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(func() {
		ln.Close()
		p.Cut()
		p.wg.Wait()
	})
	return p
}

func (p *proxy) Addr() string { return p.ln.Addr().String() }

func (p *proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		refuse := p.refuse
		p.mu.Unlock()
		if refuse {
			c.Close()
			continue
		}
		up, err := net.DialTimeout("tcp", p.target, 5*time.Second)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, up)
		p.mu.Unlock()
		p.wg.Add(2)
		go func() { defer p.wg.Done(); _, _ = io.Copy(up, c); up.Close(); c.Close() }()
		go func() { defer p.wg.Done(); _, _ = io.Copy(c, up); up.Close(); c.Close() }()
	}
}

// Cut closes every forwarded connection.
func (p *proxy) Cut() {
	p.mu.Lock()
	conns := p.conns
	p.conns = nil
	p.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}

func (p *proxy) SetRefuse(r bool) {
	p.mu.Lock()
	p.refuse = r
	p.mu.Unlock()
}

// testTopics are OCM-style topics of one test: its own source id, so
// concurrent tests do not meet (the broadcast topics are shared, and
// clients drop what is not theirs).
func testTopics(src, group string) Topics {
	return Topics{
		SourceEvents:    "sources/" + src + "/clusters/+/sourceevents",
		AgentEvents:     "$share/" + group + "/sources/" + src + "/clusters/+/agentevents",
		SourceBroadcast: "sources/+/sourcebroadcast",
		AgentBroadcast:  "clusters/+/agentbroadcast",
	}
}

// Source and agent through the machine's Mosquitto: create, update and
// delete reach the agent, statuses reach the source. Then the broker
// connection of both drops (a TCP proxy cuts it and refuses for a
// while): the clients report Lost, reconnect, resubscribe, report
// Resubscribed, resync on their own, and agree again on what changed
// while they were away.
func TestIntegrationMosquittoSyncAndReconnect(t *testing.T) {
	addr := mosquittoAddr(t)
	ctx := t.Context()
	id := uniq(t)
	src, cluster, agentID := "src-"+id, "cl-"+id, "agent-"+id
	px := newProxy(t, addr)
	opts := &Options{BrokerHost: px.Addr(), KeepAlive: 10, DialTimeout: 5 * time.Second, PubQoS: 1, SubQoS: 1, Topics: testTopics(src, "g-"+id)}
	st, err := NewSourceTransport(opts, "", src)
	if err != nil {
		t.Fatal(err)
	}
	at, err := NewAgentTransport(opts, cluster, agentID)
	if err != nil {
		t.Fatal(err)
	}
	if at.ClientID() != agentID+"-client" {
		t.Errorf("agent client id %q", at.ClientID())
	}
	f := cloudsynctest.New(t, ctx, src, agentID, cluster, st, at, nil, cloudsynctest.Options{})
	const wait = 60 * time.Second
	for _, rid := range []string{"a", "b", "c"} {
		if err := f.Apply(ctx, f.Res(rid, 1, `{"n":1}`)); err != nil {
			t.Fatal(err)
		}
	}
	f.WaitAgree(wait)
	if err := f.Apply(ctx, f.Res("a", 2, `{"n":2}`)); err != nil {
		t.Fatal(err)
	}
	if err := f.Delete(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	f.WaitAgree(wait)
	f.SourceStore.Delete("c") // deletion done

	px.SetRefuse(true)
	px.Cut()
	cloudsynctest.Eventually(t, wait, "both clients report the loss", func() string {
		if f.SourceConn.Count(cloudsync.Lost, false) == 0 || f.AgentConn.Count(cloudsync.Lost, false) == 0 {
			return f.SourceConn.String() + " / " + f.AgentConn.String()
		}
		return ""
	})
	// while away: a changes, b is gone, d is new, a's status drifts on the agent
	f.SourceStore.Put(f.Res("a", 3, `{"n":3}`))
	f.SourceStore.Delete("b")
	f.SourceStore.Put(f.Res("d", 1, `{"n":1}`))
	px.SetRefuse(false)

	cloudsynctest.Eventually(t, wait, "resubscribed and resynced", func() string {
		if !f.SourceConn.ResyncedAfterResubscribe() || !f.AgentConn.ResyncedAfterResubscribe() {
			return f.SourceConn.String() + " / " + f.AgentConn.String()
		}
		return ""
	})
	f.WaitAgree(wait)
	if _, ok := f.AgentStore.Get("b"); ok {
		t.Error("b survived on the agent")
	}
	if r, ok := f.AgentStore.Get("a"); !ok || r.Version != 3 {
		t.Errorf("agent a = %+v", r)
	}
	// and a status change after the reconnect still flows
	f.AgentStore.Update("d", func(r *cloudsync.Resource) { r.Status = json.RawMessage(`{"late":true}`) })
	d, _ := f.AgentStore.Get("d")
	if err := f.Agent.Publish(ctx, cloudsynctest.Type(cloudsync.SubResourceStatus, cloudsync.UpdateRequest), d); err != nil {
		t.Fatal(err)
	}
	f.WaitAgree(wait)
}

// Status drift while the agent alone is away: its own reconnect brings
// the source's copy up to date (the source asks for statuses when an
// agent asks for specs).
func TestIntegrationMosquittoAgentReconnectStatusDrift(t *testing.T) {
	addr := mosquittoAddr(t)
	ctx := t.Context()
	id := uniq(t)
	src, cluster, agentID := "src-"+id, "cl-"+id, "agent-"+id
	px := newProxy(t, addr)
	direct := &Options{BrokerHost: addr, KeepAlive: 10, DialTimeout: 5 * time.Second, PubQoS: 1, SubQoS: 1, Topics: testTopics(src, "g-"+id)}
	proxied := *direct
	proxied.BrokerHost = px.Addr()
	st, err := NewSourceTransport(direct, "", src)
	if err != nil {
		t.Fatal(err)
	}
	at, err := NewAgentTransport(&proxied, cluster, agentID)
	if err != nil {
		t.Fatal(err)
	}
	f := cloudsynctest.New(t, ctx, src, agentID, cluster, st, at, nil, cloudsynctest.Options{})
	const wait = 60 * time.Second
	if err := f.Apply(ctx, f.Res("a", 1, `{}`)); err != nil {
		t.Fatal(err)
	}
	f.WaitAgree(wait)
	px.SetRefuse(true)
	px.Cut()
	cloudsynctest.Eventually(t, wait, "the agent reports the loss", func() string {
		if f.AgentConn.Count(cloudsync.Lost, false) == 0 {
			return f.AgentConn.String()
		}
		return ""
	})
	f.AgentStore.Update("a", func(r *cloudsync.Resource) { r.Status = json.RawMessage(`{"drift":1}`) })
	px.SetRefuse(false)
	cloudsynctest.Eventually(t, wait, "the source has the drifted status", func() string {
		r, _ := f.SourceStore.Get("a")
		if string(r.Status) != `{"drift":1}` {
			return string(r.Status)
		}
		return ""
	})
	if f.SourceConn.Count(cloudsync.Lost, false) != 0 {
		t.Errorf("the source lost its connection: %s", f.SourceConn.String())
	}
}
