package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/eclipse/paho.golang/paho"

	"github.com/eventbridge-dev/eventbridge/bench/internal/forward"
	"github.com/eventbridge-dev/eventbridge/bench/internal/httpclient"
	"github.com/eventbridge-dev/eventbridge/bench/internal/loadgen"
	"github.com/eventbridge-dev/eventbridge/bench/internal/sink"
)

// mqttIn is the MQTT scenario's input topic; the output is the HTTP sink.
const mqttIn = "bench/in"

// mqttBroker is a mosquitto process with a generated configuration.
type mqttBroker struct {
	proc *child
	addr string // host:port
}

// mosquittoConfig is the broker's configuration: loopback only, anonymous,
// no persistence, Nagle off, and no limit on the QoS 1 messages queued for
// a subscriber that lags (mosquitto drops them past 1,000 by default).
func mosquittoConfig(port int) string {
	return fmt.Sprintf("listener %d 127.0.0.1\n", port) +
		"allow_anonymous true\n" +
		"set_tcp_nodelay true\n" +
		"persistence false\n" +
		"max_queued_messages 0\n" +
		"log_dest stderr\n"
}

// startMosquitto starts mosquitto on a free loopback port and waits until it
// accepts connections; if it exits first (the port was taken meanwhile), it
// tries once more on another port.
func (r *runner) startMosquitto(ctx context.Context, logDir string) (*mqttBroker, error) {
	bin, err := exec.LookPath(r.cfg.Mosquitto)
	if err != nil {
		return nil, fmt.Errorf("%w (install the mosquitto broker: apt-get install mosquitto, or give --mosquitto)", err)
	}
	for attempt := 1; ; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		conf := filepath.Join(logDir, "mosquitto.conf")
		if err := os.WriteFile(conf, []byte(mosquittoConfig(port)), 0o644); err != nil {
			return nil, err
		}
		c, err := startChild("mosquitto", logDir, bin, "-c", conf)
		if err != nil {
			return nil, err
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && !c.exited() && ctx.Err() == nil; {
			if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
				conn.Close()
				return &mqttBroker{proc: c, addr: addr}, nil
			}
			time.Sleep(20 * time.Millisecond)
		}
		exited := c.exited()
		c.stop(stopGrace)
		if !exited || attempt == 2 || ctx.Err() != nil {
			return nil, fmt.Errorf("mosquitto not ready on %s, log %s\n%s", addr, c.logPath, indent(c.tail(15)))
		}
	}
}

// connect opens an MQTT 5 session (clean start) with the handlers given.
func (b *mqttBroker) connect(ctx context.Context, id string, handlers ...func(paho.PublishReceived) (bool, error)) (*paho.Client, error) {
	conn, err := net.DialTimeout("tcp", b.addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	c := paho.NewClient(paho.ClientConfig{Conn: conn, OnPublishReceived: handlers})
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	receiveMax := uint16(1000)
	ack, err := c.Connect(cctx, &paho.Connect{ClientID: id + "-" + strconv.Itoa(os.Getpid()), CleanStart: true, KeepAlive: 30,
		Properties: &paho.ConnectProperties{ReceiveMaximum: &receiveMax}})
	if err == nil && ack.ReasonCode != 0 {
		err = fmt.Errorf("connack reason code %d", ack.ReasonCode)
	}
	if err != nil {
		conn.Close()
		return nil, err
	}
	return c, nil
}

// disconnect ends c's session.
func disconnect(c *paho.Client) {
	_ = c.Disconnect(&paho.Disconnect{})
	<-c.Done()
}

// publisher publishes at QoS 1: a publish returns with the PUBACK.
func (b *mqttBroker) publisher(ctx context.Context) (publishFunc, func(), error) {
	c, err := b.connect(ctx, "bench-publisher")
	if err != nil {
		return nil, nil, err
	}
	return func(ctx context.Context, e benchEvent) error {
		resp, err := c.Publish(ctx, &paho.Publish{Topic: mqttIn, QoS: 1, Payload: loadgen.Body, Properties: mqttProperties(e)})
		if err == nil && resp != nil && resp.ReasonCode >= 0x80 {
			err = fmt.Errorf("puback reason code %d", resp.ReasonCode)
		}
		return err
	}, func() { disconnect(c) }, nil
}

// mqttProperties is e in the MQTT 5 binary binding: the content type, and
// the other attributes as user properties.
func mqttProperties(e benchEvent) *paho.PublishProperties {
	return &paho.PublishProperties{
		ContentType: "application/json",
		User: paho.UserProperties{
			{Key: "specversion", Value: "1.0"},
			{Key: "id", Value: e.ID},
			{Key: "source", Value: loadgen.DefaultSource},
			{Key: "type", Value: loadgen.DefaultType},
			{Key: "time", Value: e.Time},
		},
	}
}

// mqttToHTTP maps a binary-mode MQTT message's properties onto the HTTP
// binary binding's headers: each attribute (user property, with or without
// a ce- prefix) as ce-<name>, the content type as Content-Type.
func mqttToHTTP(p *paho.PublishProperties) http.Header {
	h := http.Header{}
	if p == nil {
		return h
	}
	for _, u := range p.User {
		name := strings.TrimPrefix(strings.ToLower(u.Key), "ce-")
		h.Set("Ce-"+name, u.Value)
	}
	if p.ContentType != "" {
		h.Set("Content-Type", p.ContentType)
	}
	return h
}

// consume serves an HTTP sink in the runner, which the bridge's http target
// posts to. For the direct middlebox a forwarder subscribes to the input
// and posts each message to the sink itself, synchronously, before the
// client acknowledges it: the least an MQTT → HTTP bridge can cost.
func (b *mqttBroker) consume(ctx context.Context, direct bool, s *sink.Sink) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	sinkURL := "http://" + ln.Addr().String() + "/"
	stop := func() { _ = srv.Close() }
	target := "{type: http, url: " + strconv.Quote(sinkURL) + ", mode: binary}"
	if !direct {
		return target, stop, nil
	}
	client := httpclient.New(1, 10*time.Second)
	fwd := func(pr paho.PublishReceived) (bool, error) {
		status, err := forward.Post(context.Background(), client, sinkURL, mqttToHTTP(pr.Packet.Properties), pr.Packet.Payload)
		if err == nil && status/100 != 2 {
			err = fmt.Errorf("sink answered %d", status)
		}
		return true, err
	}
	c, err := b.connect(ctx, "bench-forwarder", fwd)
	if err == nil {
		var ack *paho.Suback
		ack, err = c.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: mqttIn, QoS: 1}}})
		if err == nil && (len(ack.Reasons) != 1 || ack.Reasons[0] >= 0x80) {
			err = errors.New("subscription refused")
		}
		if err != nil {
			disconnect(c)
		}
	}
	if err != nil {
		stop()
		return "", nil, err
	}
	return target, func() { disconnect(c); stop() }, nil
}

func (b *mqttBroker) source() string {
	return "{type: mqtt, url: " + strconv.Quote("mqtt://"+b.addr) + ", topics: [" + mqttIn + "], qos: 1, clean_start: true}"
}

func (b *mqttBroker) pids() []int { return []int{b.proc.pid()} }

func (b *mqttBroker) close() { b.proc.stop(stopGrace) }
