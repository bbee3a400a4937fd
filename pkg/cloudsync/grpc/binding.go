package grpc

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/cloudevents/sdk-go/binding/format/protobuf/v2/pb"
	cloudevents "github.com/cloudevents/sdk-go/v2"
	cetypes "github.com/cloudevents/sdk-go/v2/types"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// open-cluster-management's gRPC binding does not name attributes as the
// CloudEvents protobuf format does: every attribute but the four fields
// is keyed "ce-<name>", except datacontenttype, keyed "contenttype". Its
// reader ignores other keys and reads data from binary_data only.
const (
	attrPrefix     = "ce-"
	ocmContentType = "contenttype"
)

// ToOCMAttributes renames the attribute keys of a protobuf-format event
// in place to open-cluster-management's binding ("ce-<name>",
// "contenttype").
func ToOCMAttributes(p *pb.CloudEvent) {
	if len(p.Attributes) == 0 {
		return
	}
	out := make(map[string]*pb.CloudEventAttributeValue, len(p.Attributes))
	for k, v := range p.Attributes {
		switch {
		case k == "datacontenttype" || k == ocmContentType:
			out[ocmContentType] = v
		case strings.HasPrefix(k, attrPrefix):
			out[k] = v
		default:
			out[attrPrefix+k] = v
		}
	}
	p.Attributes = out
}

// FromOCMAttributes renames the attribute keys of an event in
// open-cluster-management's binding back to the protobuf format's in
// place. Keys already in the format's naming are kept.
func FromOCMAttributes(p *pb.CloudEvent) {
	if len(p.Attributes) == 0 {
		return
	}
	out := make(map[string]*pb.CloudEventAttributeValue, len(p.Attributes))
	for k, v := range p.Attributes {
		switch {
		case k == ocmContentType:
			out["datacontenttype"] = v
		case strings.HasPrefix(k, attrPrefix):
			out[strings.TrimPrefix(k, attrPrefix)] = v
		default:
			out[k] = v
		}
	}
	p.Attributes = out
}

// ToProto writes evt as open-cluster-management's gRPC binding does:
// typed attributes keyed "ce-<name>", "contenttype", data in binary_data.
func ToProto(evt cloudevents.Event) (*pb.CloudEvent, error) {
	p := &pb.CloudEvent{Id: evt.ID(), Source: evt.Source(), SpecVersion: evt.SpecVersion(), Type: evt.Type(),
		Attributes: map[string]*pb.CloudEventAttributeValue{}}
	if ct := evt.DataContentType(); ct != "" {
		p.Attributes[ocmContentType] = &pb.CloudEventAttributeValue{Attr: &pb.CloudEventAttributeValue_CeString{CeString: ct}}
	}
	if !evt.Time().IsZero() {
		p.Attributes[attrPrefix+"time"] = &pb.CloudEventAttributeValue{Attr: &pb.CloudEventAttributeValue_CeTimestamp{CeTimestamp: timestamppb.New(evt.Time())}}
	}
	if s := evt.Subject(); s != "" {
		p.Attributes[attrPrefix+"subject"] = &pb.CloudEventAttributeValue{Attr: &pb.CloudEventAttributeValue_CeString{CeString: s}}
	}
	if s := evt.DataSchema(); s != "" {
		p.Attributes[attrPrefix+"dataschema"] = &pb.CloudEventAttributeValue{Attr: &pb.CloudEventAttributeValue_CeUri{CeUri: s}}
	}
	for name, v := range evt.Extensions() {
		a, err := attrValue(v)
		if err != nil {
			return nil, fmt.Errorf("grpc: extension %s: %w", name, err)
		}
		p.Attributes[attrPrefix+name] = a
	}
	if d := evt.Data(); len(d) > 0 {
		p.Data = &pb.CloudEvent_BinaryData{BinaryData: d}
	}
	return p, nil
}

func attrValue(v any) (*pb.CloudEventAttributeValue, error) {
	vv, err := cetypes.Validate(v)
	if err != nil {
		return nil, err
	}
	switch x := vv.(type) {
	case bool:
		return &pb.CloudEventAttributeValue{Attr: &pb.CloudEventAttributeValue_CeBoolean{CeBoolean: x}}, nil
	case int32:
		return &pb.CloudEventAttributeValue{Attr: &pb.CloudEventAttributeValue_CeInteger{CeInteger: x}}, nil
	case string:
		return &pb.CloudEventAttributeValue{Attr: &pb.CloudEventAttributeValue_CeString{CeString: x}}, nil
	case []byte:
		return &pb.CloudEventAttributeValue{Attr: &pb.CloudEventAttributeValue_CeBytes{CeBytes: x}}, nil
	case cetypes.URI:
		return &pb.CloudEventAttributeValue{Attr: &pb.CloudEventAttributeValue_CeUri{CeUri: x.String()}}, nil
	case cetypes.URIRef:
		return &pb.CloudEventAttributeValue{Attr: &pb.CloudEventAttributeValue_CeUriRef{CeUriRef: x.String()}}, nil
	case cetypes.Timestamp:
		return &pb.CloudEventAttributeValue{Attr: &pb.CloudEventAttributeValue_CeTimestamp{CeTimestamp: timestamppb.New(x.Time)}}, nil
	}
	return nil, fmt.Errorf("unsupported type %T", v)
}

func nativeValue(a *pb.CloudEventAttributeValue) (any, error) {
	switch x := a.GetAttr().(type) {
	case *pb.CloudEventAttributeValue_CeBoolean:
		return x.CeBoolean, nil
	case *pb.CloudEventAttributeValue_CeInteger:
		return x.CeInteger, nil
	case *pb.CloudEventAttributeValue_CeString:
		return x.CeString, nil
	case *pb.CloudEventAttributeValue_CeBytes:
		return x.CeBytes, nil
	case *pb.CloudEventAttributeValue_CeUri:
		u, err := url.Parse(x.CeUri)
		if err != nil {
			return nil, err
		}
		return cetypes.URI{URL: *u}, nil
	case *pb.CloudEventAttributeValue_CeUriRef:
		u, err := url.Parse(x.CeUriRef)
		if err != nil {
			return nil, err
		}
		return cetypes.URIRef{URL: *u}, nil
	case *pb.CloudEventAttributeValue_CeTimestamp:
		return cetypes.Timestamp{Time: x.CeTimestamp.AsTime()}, nil
	}
	return nil, fmt.Errorf("attribute has no value")
}

// FromProto reads an event in either binding: open-cluster-management's
// ("ce-<name>", "contenttype") or the CloudEvents protobuf format's.
func FromProto(p *pb.CloudEvent) (cloudevents.Event, error) {
	q := &pb.CloudEvent{Attributes: p.GetAttributes()}
	FromOCMAttributes(q)
	evt := cloudevents.NewEvent(p.GetSpecVersion())
	evt.SetID(p.GetId())
	evt.SetSource(p.GetSource())
	evt.SetType(p.GetType())
	var ct string
	for name, a := range q.Attributes {
		v, err := nativeValue(a)
		if err != nil {
			return evt, fmt.Errorf("grpc: attribute %s: %w", name, err)
		}
		switch name {
		case "datacontenttype":
			ct, _ = cetypes.ToString(v)
		case "time":
			t, err := cetypes.ToTime(v)
			if err != nil {
				return evt, fmt.Errorf("grpc: time: %w", err)
			}
			evt.SetTime(t)
		case "subject":
			s, _ := cetypes.Format(v)
			evt.SetSubject(s)
		case "dataschema":
			s, _ := cetypes.Format(v)
			evt.SetDataSchema(s)
		default:
			if err := evt.Context.SetExtension(name, v); err != nil {
				return evt, fmt.Errorf("grpc: extension %s: %w", name, err)
			}
		}
	}
	var data []byte
	switch d := p.GetData().(type) {
	case *pb.CloudEvent_BinaryData:
		data = d.BinaryData
	case *pb.CloudEvent_TextData:
		data = []byte(d.TextData)
	case *pb.CloudEvent_ProtoData:
		data = d.ProtoData.GetValue()
	}
	if ct != "" {
		evt.SetDataContentType(ct)
	}
	if len(data) > 0 {
		evt.DataEncoded = data
	}
	return evt, evt.Validate()
}
