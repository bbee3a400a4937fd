package mqtt

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/packets"
	"github.com/eclipse/paho.golang/paho"

	"github.com/eventbridge-dev/eventbridge/internal/connector"
)

// link5 is an MQTT 5 link on autopaho.
type link5 struct {
	cfg       linkConfig
	cm        *autopaho.ConnectionManager
	maxPacket atomic.Uint32 // the broker's Maximum Packet Size; 0: none
	subs      subscriber
	churn     *churn
}

func dial5(cfg linkConfig, urls []*url.URL) (*link5, error) {
	tc, err := cfg.conn.TLS.Config()
	if err != nil {
		return nil, err
	}
	l := &link5{cfg: cfg, churn: newChurn(&cfg)}
	cc := autopaho.ClientConfig{
		ServerUrls:                    urls,
		TlsCfg:                        tc,
		KeepAlive:                     uint16(cfg.conn.KeepAlive.D().Seconds()),
		CleanStartOnInitialConnection: cfg.cleanStart,
		SessionExpiryInterval:         uint32(cfg.sessionExpiry.Seconds()),
		// autopaho counts attempts from 0 after each lost connection, and
		// waits nothing before attempt 0: the churn paces them instead.
		ReconnectBackoff: l.churn.delay,
		ConnectTimeout:   cfg.conn.ConnectTimeout.D(),
		ConnectUsername:  cfg.conn.Username,
		ConnectPassword:  []byte(cfg.conn.Password.Value()),
		OnConnectionUp:   l.up,
		OnConnectionDown: l.down,
		OnConnectError: func(err error) {
			l.churn.failed() // a broker that refuses did not hand the id to another
			cfg.onState(false, err)
		},
		ConnectPacketBuilder: func(cp *paho.Connect, _ *url.URL) (*paho.Connect, error) {
			if cp.Properties == nil {
				cp.Properties = &paho.ConnectProperties{}
			}
			// autopaho's packet (with a session expiry) leaves Request
			// Problem Information false, which paho sends as 0; some
			// brokers (mochi) then strip the user properties of every
			// PUBLISH, binary mode's attributes.
			cp.Properties.RequestProblemInfo = true
			if cfg.receiveMax > 0 {
				rm := cfg.receiveMax
				cp.Properties.ReceiveMaximum = &rm
			}
			return cp, nil
		},
		ClientConfig: paho.ClientConfig{
			ClientID:                   cfg.clientID,
			EnableManualAcknowledgment: cfg.onMessage != nil,
			// Acknowledgements leave in order, in batches at this interval:
			// short, so that Receive Maximum is not used up waiting.
			SendAcksInterval: 10 * time.Millisecond,
			OnServerDisconnect: func(d *paho.Disconnect) {
				if d.ReasonCode == packets.DisconnectSessionTakenOver {
					l.churn.takenOverNow()
				}
			},
		},
	}
	if cfg.guard != nil {
		gd := &guardedDialer{guard: cfg.guard, tls: tc, timeout: cfg.conn.ConnectTimeout.D()}
		cc.AttemptConnection = func(ctx context.Context, _ autopaho.ClientConfig, u *url.URL) (net.Conn, error) {
			c, err := gd.dial(ctx, u)
			if err != nil {
				return nil, err
			}
			// paho writes a packet in several writes, from several
			// goroutines: it locks a conn that is a sync.Locker.
			return packets.NewThreadSafeConn(c), nil
		}
	}
	if cfg.onMessage != nil {
		cc.OnPublishReceived = []func(paho.PublishReceived) (bool, error){l.received}
	}
	// The manager's life is the link's, not a caller's request.
	l.cm, err = autopaho.NewConnection(context.Background(), cc)
	if err != nil {
		return nil, err
	}
	return l, nil
}

// up runs on autopaho's goroutine and must not block.
func (l *link5) up(cm *autopaho.ConnectionManager, ca *paho.Connack) {
	l.churn.up()
	l.maxPacket.Store(0)
	if ca.Properties != nil && ca.Properties.MaximumPacketSize != nil {
		l.maxPacket.Store(*ca.Properties.MaximumPacketSize)
	}
	l.subs.connected(&l.cfg, func(ctx context.Context) error {
		s := &paho.Subscribe{}
		for _, sub := range l.cfg.subs {
			// RetainHandling 1: retained messages only for a new
			// subscription, not again on every reconnect.
			s.Subscriptions = append(s.Subscriptions, paho.SubscribeOptions{Topic: sub.filter, QoS: sub.qos, RetainHandling: 1})
		}
		sa, err := cm.Subscribe(ctx, s)
		if err != nil && sa != nil {
			return fmt.Errorf("subscribe: %w (reason codes % x)", err, sa.Reasons)
		}
		return err
	})
}

func (l *link5) down() bool {
	l.churn.down()
	l.subs.lost(&l.cfg, errConnectionLost)
	return true
}

func (l *link5) received(pr paho.PublishReceived) (bool, error) {
	p := pr.Packet
	m := Message{Topic: p.Topic, Payload: p.Payload, QoS: p.QoS, Retain: p.Retain}
	if p.Properties != nil {
		m.ContentType = p.Properties.ContentType
		for _, u := range p.Properties.User {
			m.Properties = append(m.Properties, Property{Key: u.Key, Value: u.Value})
		}
	}
	cli := pr.Client
	l.cfg.onMessage(delivery{msg: m, ack: func() { _ = cli.Ack(p) }})
	return true, nil
}

func (l *link5) publish(ctx context.Context, m *Message) error {
	p := &paho.Publish{QoS: m.QoS, Retain: m.Retain, Topic: m.Topic, Payload: m.Payload, Properties: &paho.PublishProperties{ContentType: m.ContentType}}
	size := 16 + len(m.Topic) + len(m.ContentType) + len(m.Payload)
	for _, u := range m.Properties {
		p.Properties.User = append(p.Properties.User, paho.UserProperty{Key: u.Key, Value: u.Value})
		size += 5 + len(u.Key) + len(u.Value)
	}
	if maxSize := l.maxPacket.Load(); maxSize > 0 && size > int(maxSize) {
		return connector.Permanent(fmt.Errorf("a message of about %d bytes is over the broker's maximum packet size of %d", size, maxSize))
	}
	resp, err := l.cm.Publish(ctx, p)
	switch {
	case errors.Is(err, autopaho.ConnectionDownError):
		return connector.ErrNotConnected
	case errors.Is(err, paho.ErrInvalidArguments):
		return connector.Permanent(err)
	case resp != nil && resp.ReasonCode >= 0x80:
		reason := ""
		if resp.Properties != nil {
			reason = resp.Properties.ReasonString
		}
		return reasonError(resp.ReasonCode, reason)
	case err != nil:
		return fmt.Errorf("publish: %w", err)
	}
	return nil
}

func (l *link5) close(ctx context.Context) error {
	l.churn.close()
	err := l.cm.Disconnect(ctx)
	l.subs.lost(&l.cfg, nil)
	l.subs.wait()
	return err
}

var _ link = (*link5)(nil)
