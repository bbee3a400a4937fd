package main

import (
	"context"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventbridge-dev/eventbridge/bench/internal/loadgen"
	"github.com/eventbridge-dev/eventbridge/bench/internal/sink"
)

// The Kafka scenario's topics, one partition each (order as in a single
// partition, one consumer).
const (
	kafkaIn  = "bench-in"
	kafkaOut = "bench-out"
)

// kafkaBroker is a kfake cluster (one broker) in the runner.
type kafkaBroker struct {
	c    *kfake.Cluster
	addr string
}

func startKafka() (*kafkaBroker, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(port), kfake.SeedTopics(1, kafkaIn, kafkaOut))
	if err != nil {
		return nil, err
	}
	return &kafkaBroker{c: c, addr: c.ListenAddrs()[0]}, nil
}

// publisher produces with acks from all in-sync replicas (and the
// idempotent producer, franz-go's default), without lingering: the bridge's
// kafka target does the same.
func (b *kafkaBroker) publisher(context.Context) (publishFunc, func(), error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.addr), kgo.DefaultProduceTopic(kafkaIn),
		kgo.RequiredAcks(kgo.AllISRAcks()), kgo.ProducerLinger(0))
	if err != nil {
		return nil, nil, err
	}
	return func(ctx context.Context, e benchEvent) error {
		return cl.ProduceSync(ctx, &kgo.Record{Value: loadgen.Body, Headers: kafkaHeaders(e)}).FirstErr()
	}, cl.Close, nil
}

// kafkaHeaders is e in the Kafka binary binding.
func kafkaHeaders(e benchEvent) []kgo.RecordHeader {
	return []kgo.RecordHeader{
		{Key: "ce_specversion", Value: []byte("1.0")},
		{Key: "ce_id", Value: []byte(e.ID)},
		{Key: "ce_source", Value: []byte(loadgen.DefaultSource)},
		{Key: "ce_type", Value: []byte(loadgen.DefaultType)},
		{Key: "ce_time", Value: []byte(e.Time)},
		{Key: "content-type", Value: []byte("application/json")},
	}
}

// kafkaAttrs reads an event's source, id and time from a record's headers.
func kafkaAttrs(hs []kgo.RecordHeader) (source, id, time string) {
	m := make(map[string][]string, len(hs))
	for _, h := range hs {
		m[h.Key] = append(m[h.Key], string(h.Value))
	}
	return headerAttrs(m, "ce_")
}

// consume reads the topic from its start, without a group: every record
// produced after the consumer started is counted once.
func (b *kafkaBroker) consume(ctx context.Context, direct bool, s *sink.Sink) (string, func(), error) {
	topic := kafkaOut
	if direct {
		topic = kafkaIn
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.addr), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(time.Second))
	if err != nil {
		return "", nil, err
	}
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for cctx.Err() == nil {
			fs := cl.PollFetches(cctx)
			now := time.Now()
			fs.EachRecord(func(r *kgo.Record) {
				src, id, t := kafkaAttrs(r.Headers)
				s.Record(now, src, id, t)
			})
		}
	}()
	stop := func() {
		cancel()
		<-done
		cl.Close()
	}
	target := "{type: kafka, brokers: [" + strconv.Quote(b.addr) + "], topic: " + kafkaOut + ", mode: binary}"
	return target, stop, nil
}

func (b *kafkaBroker) source() string {
	return "{type: kafka, brokers: [" + strconv.Quote(b.addr) + "], topics: [" + kafkaIn + "]}"
}

func (b *kafkaBroker) pids() []int { return nil }

func (b *kafkaBroker) close() { b.c.Close() }
