package bustest

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/eventbridge-dev/eventbridge/internal/bus"
)

// This file is the harness's only use of the JetStream client: what the
// bus does not offer as operations of its own, read straight from its
// streams. Streams and subjects are given by their logical names
// (bus.StreamDLQ, bus.DLQSubject, ...); the bus's prefix is added here.

// Count is the number of messages stream holds on subject ("" or ">": all).
func Count(t testing.TB, b *bus.Bus, stream, subject string) uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Wait)
	defer cancel()
	s, err := b.JetStream().Stream(ctx, b.StreamName(stream))
	if err != nil {
		t.Fatalf("bustest: stream %s: %v", stream, err)
	}
	if subject == "" || subject == ">" {
		info, err := s.Info(ctx)
		if err != nil {
			t.Fatalf("bustest: stream %s: %v", stream, err)
		}
		return info.State.Msgs
	}
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(b.SubjectName(subject)))
	if err != nil {
		t.Fatalf("bustest: stream %s: %v", stream, err)
	}
	var n uint64
	for _, c := range info.State.Subjects {
		n += c
	}
	return n
}

// Messages returns the messages stream holds on subject (wildcards
// allowed), oldest first. It reads by sequence and makes no consumer, so
// it may look into work-queue streams (WORK, RETRY) beside their
// consumers without taking anything from them.
func Messages(t testing.TB, b *bus.Bus, stream, subject string) []Msg {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Wait)
	defer cancel()
	s, err := b.JetStream().Stream(ctx, b.StreamName(stream))
	if err != nil {
		t.Fatalf("bustest: stream %s: %v", stream, err)
	}
	var out []Msg
	for seq := uint64(1); ; seq++ {
		m, err := s.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(b.SubjectName(subject)))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return out
		}
		if err != nil {
			t.Fatalf("bustest: %s in %s: %v", subject, stream, err)
		}
		out = append(out, Msg{Seq: m.Sequence, Subject: strings.TrimPrefix(m.Subject, b.SubjectName("")), Header: m.Header, Data: m.Data})
		seq = m.Sequence
	}
}

// Consumer is the state of a durable consumer.
type Consumer struct {
	// Exists is false when the stream has no such consumer.
	Exists bool
	// Pending is how many messages wait to be delivered, AckPending how
	// many were delivered and not yet acknowledged.
	Pending, AckPending uint64
}

// ConsumerState looks up a durable consumer of stream.
func ConsumerState(t testing.TB, b *bus.Bus, stream, name string) Consumer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Wait)
	defer cancel()
	c, err := b.JetStream().Consumer(ctx, b.StreamName(stream), name)
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		return Consumer{}
	}
	if err != nil {
		t.Fatalf("bustest: consumer %s of %s: %v", name, stream, err)
	}
	info, err := c.Info(ctx)
	if err != nil {
		t.Fatalf("bustest: consumer %s of %s: %v", name, stream, err)
	}
	return Consumer{Exists: true, Pending: info.NumPending, AckPending: uint64(info.NumAckPending)}
}
