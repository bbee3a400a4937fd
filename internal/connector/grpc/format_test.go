package grpc_test

import (
	"testing"
	"time"

	format "github.com/cloudevents/sdk-go/binding/format/protobuf/v2"
	"github.com/cloudevents/sdk-go/binding/format/protobuf/v2/pb"
	ce "github.com/cloudevents/sdk-go/v2/event"
	"google.golang.org/protobuf/proto"

	"github.com/eventbridge-dev/eventbridge/internal/connector/connectortest"
	"github.com/eventbridge-dev/eventbridge/internal/connector/grpc"
)

// samples are events with every kind of data the format has a place for.
func samples() []*ce.Event {
	text := ce.New()
	text.SetID("text")
	text.SetSource("/s")
	text.SetType("t")
	_ = text.SetData("text/plain", "plain text")
	bin := ce.New()
	bin.SetID("bin")
	bin.SetSource("/s")
	bin.SetType("t")
	_ = bin.SetData("application/octet-stream", []byte{0, 1, 2, 0xff})
	empty := ce.New()
	empty.SetID("empty")
	empty.SetSource("urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66")
	empty.SetType("t")
	empty.SetExtension("when", time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC))
	return []*ce.Event{connectortest.Sample("full"), &text, &bin, &empty}
}

// Events written by sdk-go's protobuf format (the reference) read back
// unchanged, and what we write, sdk-go reads.
func TestInteropWithSDKFormat(t *testing.T) {
	for _, want := range samples() {
		b, err := format.Protobuf.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		var p pb.CloudEvent
		if err := proto.Unmarshal(b, &p); err != nil {
			t.Fatal(err)
		}
		got, err := grpc.FromProto(&p)
		if err != nil {
			t.Fatalf("%s from sdk-go: %v", want.ID(), err)
		}
		connectortest.SameEvent(t, want, got)

		ours, err := grpc.ToProto(want)
		if err != nil {
			t.Fatal(err)
		}
		b, err = proto.Marshal(ours)
		if err != nil {
			t.Fatal(err)
		}
		var back ce.Event
		if err := format.Protobuf.Unmarshal(b, &back); err != nil {
			t.Fatalf("%s to sdk-go: %v", want.ID(), err)
		}
		connectortest.SameEvent(t, want, &back)
	}
}

// Data travels as binary_data (text_data is read too), and extensions
// keep their types.
func TestFormatTypes(t *testing.T) {
	p := mustToProto(t, connectortest.Sample("x"))
	if _, ok := p.Data.(*pb.CloudEvent_BinaryData); !ok {
		t.Errorf("JSON data: %T, want binary_data", p.Data)
	}
	p.Data = &pb.CloudEvent_TextData{TextData: `{"total":42}`}
	if e, err := grpc.FromProto(p); err != nil || string(e.Data()) != `{"total":42}` {
		t.Errorf("text_data: %v %v", e, err)
	}
	if p.Attributes["intext"].GetCeInteger() != 42 || !p.Attributes["boolext"].GetCeBoolean() || p.Attributes["time"].GetCeTimestamp() == nil {
		t.Errorf("attributes %v", p.Attributes)
	}
	p, _ = grpc.ToProto(samples()[2])
	if _, ok := p.Data.(*pb.CloudEvent_BinaryData); !ok {
		t.Errorf("octets: %T, want binary_data", p.Data)
	}
	e, err := grpc.FromProto(p)
	if err != nil || e.Extensions()["intext"] != nil {
		t.Fatal(err)
	}
	e, _ = grpc.FromProto(mustToProto(t, connectortest.Sample("y")))
	if _, ok := e.Extensions()["intext"].(int32); !ok {
		t.Errorf("intext is %T, want int32", e.Extensions()["intext"])
	}
}

func mustToProto(t *testing.T, e *ce.Event) *pb.CloudEvent {
	t.Helper()
	p, err := grpc.ToProto(e)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// FuzzFromProto feeds raw protobuf messages to the decoder: no panic, and
// a decoded event writes and reads back the same.
func FuzzFromProto(f *testing.F) {
	for _, e := range samples() {
		b, _ := proto.Marshal(mustToProtoF(e))
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var p pb.CloudEvent
		if err := proto.Unmarshal(b, &p); err != nil {
			return
		}
		e, err := grpc.FromProto(&p)
		if err != nil {
			return
		}
		back, err := grpc.ToProto(e)
		if err != nil {
			t.Fatalf("a decoded event does not encode: %v", err)
		}
		again, err := grpc.FromProto(back)
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		connectortest.SameEvent(t, e, again)
	})
}

func mustToProtoF(e *ce.Event) *pb.CloudEvent {
	p, err := grpc.ToProto(e)
	if err != nil {
		panic(err)
	}
	return p
}
