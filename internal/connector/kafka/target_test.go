package kafka_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventbridge-dev/eventbridge/internal/component"
	"github.com/eventbridge-dev/eventbridge/internal/connector"
	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
)

// With no cluster, Start succeeds, health says starting and not
// connected, and Send says ErrNotConnected.
func TestTargetWithoutCluster(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	tg := connectortest.StartTarget(t, "tgt", fmt.Sprintf(`{"type":"kafka","brokers":[%q],"topic":"x"}`, addr))
	if err := tg.Send(context.Background(), connectortest.Sample("1")); !errors.Is(err, connector.ErrNotConnected) {
		t.Fatalf("Send: %v", err)
	}
	connectortest.Eventually(t, 10*time.Second, func() bool { return tg.Health().LastError != "" }, "no error in health")
	h := tg.Health()
	if h.State != component.Starting || h.Detail["connected"] != false {
		t.Fatalf("health %+v", h)
	}
}

// The topic and key come from templates; a record over the size limit is
// a permanent failure; an event without the topic's attribute too.
func TestTargetTemplatesAndRefusals(t *testing.T) {
	f := startFake(t)
	base := topic(connectortest.Channel(t))
	tg := connectortest.StartTarget(t, "tgt", fmt.Sprintf(`{"type":"kafka","brokers":[%q],"topic":"%s.{subject}","key":"{type}/{partitionkey}","auto_create_topics":true,"max_message_bytes":"4KiB"}`, f.addr(), base))
	e := ce.New()
	e.SetID("1")
	e.SetSource("/s")
	e.SetType("t")
	e.SetSubject("orders")
	e.SetExtension("partitionkey", "k9")
	connectortest.Send(t, tg, &e)

	cl, err := kgo.NewClient(kgo.SeedBrokers(f.addr()), kgo.ConsumeTopics(base+".orders"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	fs := cl.PollRecords(ctx, 1)
	if errs := fs.Errors(); len(errs) > 0 {
		t.Fatal(errs)
	}
	if r := fs.Records()[0]; string(r.Key) != "t/k9" {
		t.Fatalf("key %q", r.Key)
	}

	big := ce.New()
	big.SetID("2")
	big.SetSource("/s")
	big.SetType("t")
	big.SetSubject("orders")
	_ = big.SetData("application/octet-stream", bytes.Repeat([]byte("x"), 8<<10))
	if err := tg.Send(ctx, &big); !connector.IsPermanent(err) {
		t.Fatalf("too large: %v", err)
	}
	nosub := ce.New()
	nosub.SetID("3")
	nosub.SetSource("/s")
	nosub.SetType("t")
	if err := tg.Send(ctx, &nosub); !connector.IsPermanent(err) {
		t.Fatalf("no subject: %v", err)
	}
}
