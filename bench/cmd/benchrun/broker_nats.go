package main

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/eventbridge-dev/eventbridge/bench/internal/loadgen"
	"github.com/eventbridge-dev/eventbridge/bench/internal/sink"
)

// The NATS scenario's subjects. The bridge's nats source reads core NATS,
// so the load is plain core publishes.
const (
	natsIn  = "bench.in"
	natsOut = "bench.out"
)

// natsBroker is a nats-server embedded in the runner.
type natsBroker struct {
	srv *server.Server
	url string
}

func startNATS() (*natsBroker, error) {
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, NoLog: true, NoSigs: true})
	if err != nil {
		return nil, err
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		return nil, errors.New("nats-server not ready within 10s")
	}
	return &natsBroker{srv: srv, url: srv.ClientURL()}, nil
}

func (b *natsBroker) publisher(context.Context) (publishFunc, func(), error) {
	nc, err := nats.Connect(b.url, nats.Name("bench-publisher"))
	if err != nil {
		return nil, nil, err
	}
	return func(_ context.Context, e benchEvent) error {
		return nc.PublishMsg(&nats.Msg{Subject: natsIn, Header: natsHeader(e), Data: loadgen.Body})
	}, nc.Close, nil
}

// natsHeader is e in the NATS binary binding.
func natsHeader(e benchEvent) nats.Header {
	return nats.Header{
		"ce-specversion":     {"1.0"},
		"ce-id":              {e.ID},
		"ce-source":          {loadgen.DefaultSource},
		"ce-type":            {loadgen.DefaultType},
		"ce-time":            {e.Time},
		"ce-datacontenttype": {"application/json"},
	}
}

func (b *natsBroker) consume(_ context.Context, direct bool, s *sink.Sink) (string, func(), error) {
	nc, err := nats.Connect(b.url, nats.Name("bench-consumer"))
	if err != nil {
		return "", nil, err
	}
	subject := natsOut
	if direct {
		subject = natsIn
	}
	sub, err := nc.Subscribe(subject, func(m *nats.Msg) {
		src, id, t := headerAttrs(m.Header, "ce-")
		s.Record(time.Now(), src, id, t)
	})
	if err == nil {
		err = sub.SetPendingLimits(-1, -1) // the consumer must not be the bottleneck
	}
	if err == nil {
		err = nc.Flush() // the subscription is in place
	}
	if err != nil {
		nc.Close()
		return "", nil, err
	}
	target := "{type: nats, url: " + strconv.Quote(b.url) + ", subject: " + natsOut + ", mode: binary}"
	return target, nc.Close, nil
}

func (b *natsBroker) source() string {
	return "{type: nats, url: " + strconv.Quote(b.url) + ", subjects: [" + natsIn + "]}"
}

func (b *natsBroker) pids() []int { return nil }

func (b *natsBroker) close() {
	b.srv.Shutdown()
	b.srv.WaitForShutdown()
}

// headerAttrs reads an event's source, id and time from headers named
// prefix + attribute, in any case (NATS ce-*, Kafka ce_*). A percent-encoded
// value is left as it is: the bench's sources, ids and times have nothing
// to encode.
func headerAttrs(h map[string][]string, prefix string) (source, id, time string) {
	for k, v := range h {
		if len(v) == 0 || len(k) <= len(prefix) || !strings.EqualFold(k[:len(prefix)], prefix) {
			continue
		}
		switch strings.ToLower(k[len(prefix):]) {
		case "source":
			source = v[0]
		case "id":
			id = v[0]
		case "time":
			time = v[0]
		}
	}
	return source, id, time
}
