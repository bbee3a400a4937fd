package mqtt

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	pmqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/eventbridge-dev/eventbridge/internal/connector"
)

// link311 is an MQTT 3.1.1 link on paho.mqtt.golang.
type link311 struct {
	cfg    linkConfig
	client pmqtt.Client
	subs   subscriber
	churn  *churn
	// fresh is set by each new connection: the first reconnect attempt
	// after it waits the churn's delay.
	fresh atomic.Bool
	quit  chan struct{} // closed by close: no more waiting
	once  sync.Once
}

func dial311(cfg linkConfig, urls []*url.URL) (*link311, error) {
	tc, err := cfg.conn.TLS.Config()
	if err != nil {
		return nil, err
	}
	l := &link311{cfg: cfg, churn: newChurn(&cfg), quit: make(chan struct{})}
	o := pmqtt.NewClientOptions()
	for _, u := range urls {
		o.AddBroker(u.String())
	}
	o.SetProtocolVersion(4) // 3.1.1
	o.SetClientID(cfg.clientID)
	o.SetUsername(cfg.conn.Username)
	o.SetPassword(cfg.conn.Password.Value())
	o.SetTLSConfig(tc)
	o.SetKeepAlive(cfg.conn.KeepAlive.D())
	o.SetConnectTimeout(cfg.conn.ConnectTimeout.D())
	o.SetAutoReconnect(true)
	o.SetConnectRetry(true)
	o.SetConnectRetryInterval(time.Second)
	o.SetMaxReconnectInterval(cfg.conn.ReconnectMax.D())
	o.SetCleanSession(cfg.cleanStart)
	o.SetResumeSubs(false) // subscribed again on every connection
	o.SetOrderMatters(true)
	o.SetOnConnectHandler(l.up)
	o.SetConnectionLostHandler(func(_ pmqtt.Client, err error) {
		l.churn.down()
		l.subs.lost(&l.cfg, fmt.Errorf("%w: %v", errConnectionLost, err))
	})
	// The library's first reconnect after a lost connection is at once;
	// wait (with jitter, growing while connections keep dropping) first.
	o.SetReconnectingHandler(func(pmqtt.Client, *pmqtt.ClientOptions) {
		if !l.fresh.Swap(false) {
			return
		}
		t := time.NewTimer(l.churn.delay(0))
		defer t.Stop()
		select {
		case <-t.C:
		case <-l.quit:
		}
	})
	o.SetConnectionNotificationHandler(func(_ pmqtt.Client, n pmqtt.ConnectionNotification) {
		if f, ok := n.(pmqtt.ConnectionNotificationFailed); ok {
			l.churn.failed()
			if f.Reason != nil {
				cfg.onState(false, f.Reason)
			}
		}
	})
	if cfg.guard != nil {
		gd := &guardedDialer{guard: cfg.guard, tls: tc, timeout: cfg.conn.ConnectTimeout.D()}
		// The library gives no context: an attempt ends at the timeout.
		o.SetCustomOpenConnectionFn(func(u *url.URL, _ pmqtt.ClientOptions) (net.Conn, error) {
			return gd.dial(context.Background(), u)
		})
	}
	if cfg.onMessage != nil {
		o.SetAutoAckDisabled(true)
		o.SetDefaultPublishHandler(l.received)
	}
	l.client = pmqtt.NewClient(o)
	l.client.Connect() // with ConnectRetry it keeps trying in the background
	return l, nil
}

func (l *link311) up(c pmqtt.Client) {
	l.churn.up()
	l.fresh.Store(true)
	l.subs.connected(&l.cfg, func(ctx context.Context) error {
		filters := make(map[string]byte, len(l.cfg.subs))
		for _, s := range l.cfg.subs {
			filters[s.filter] = s.qos
		}
		tok := c.SubscribeMultiple(filters, nil) // nil: the default handler
		if err := wait(ctx, tok); err != nil {
			return fmt.Errorf("subscribe: %w", err)
		}
		if st, ok := tok.(*pmqtt.SubscribeToken); ok {
			for f, code := range st.Result() {
				if code >= 0x80 {
					return fmt.Errorf("subscribe: the broker refused %q", f)
				}
			}
		}
		return nil
	})
}

func (l *link311) received(_ pmqtt.Client, m pmqtt.Message) {
	l.cfg.onMessage(delivery{
		msg: Message{Topic: m.Topic(), Payload: m.Payload(), QoS: m.Qos(), Retain: m.Retained()},
		ack: m.Ack,
	})
}

func (l *link311) publish(ctx context.Context, m *Message) error {
	if !l.client.IsConnectionOpen() {
		return connector.ErrNotConnected
	}
	if err := wait(ctx, l.client.Publish(m.Topic, m.QoS, m.Retain, m.Payload)); err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	return nil
}

func (l *link311) close(context.Context) error {
	l.churn.close()
	l.once.Do(func() { close(l.quit) })
	l.client.Disconnect(250)
	l.subs.lost(&l.cfg, nil)
	l.subs.wait()
	return nil
}

// wait waits for a token or ctx.
func wait(ctx context.Context, tok pmqtt.Token) error {
	select {
	case <-tok.Done():
		return tok.Error()
	case <-ctx.Done():
		return ctx.Err()
	}
}

var _ link = (*link311)(nil)
