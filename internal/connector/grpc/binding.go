// Package grpc is the gRPC connector: a source that serves the
// CloudEventService (Publish stores an event; Subscribe streams the events
// the source takes in, at most once), and a target that calls Publish on a
// remote CloudEventService. Events travel in the CloudEvents protobuf
// format (io.cloudevents.v1.CloudEvent).
package grpc

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/cloudevents/sdk-go/binding/format/protobuf/v2/pb"
	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/cloudevents/sdk-go/v2/types"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
)

// ContentTypeProtobuf is the datacontenttype of protobuf data, which the
// format carries in proto_data.
const ContentTypeProtobuf = "application/protobuf"

// FromProto reads an event of the protobuf format. Its error is an
// event.ValidationError naming every bad attribute. Extensions keep the
// type the format gives them (boolean, integer, bytes, URI, timestamp).
func FromProto(p *pb.CloudEvent) (*ce.Event, error) {
	var ve ebevent.ValidationError
	if p == nil {
		ve.Add("", "no event")
		return nil, ve.Err()
	}
	attrs := map[string]string{"specversion": p.SpecVersion, "id": p.Id, "source": p.Source, "type": p.Type}
	natives := map[string]any{}
	for name, v := range p.Attributes {
		switch name {
		case "specversion", "id", "source", "type":
			ve.Add(name, "belongs in its own field of the message, not in attributes")
			continue
		}
		s, native, err := attrValue(v)
		if err != nil {
			ve.Add(name, "%v", err)
			continue
		}
		attrs[name] = s
		natives[name] = native
	}
	ct := attrs["datacontenttype"]
	delete(attrs, "datacontenttype")
	var data []byte
	switch d := p.Data.(type) {
	case *pb.CloudEvent_BinaryData:
		data = d.BinaryData
	case *pb.CloudEvent_TextData:
		data = []byte(d.TextData)
	case *pb.CloudEvent_ProtoData:
		if d.ProtoData != nil {
			data = d.ProtoData.Value
		}
		if ct == "" {
			ct = ContentTypeProtobuf
		}
	}
	e, err := ebevent.FromBinary(attrs, ct, data)
	if err != nil || len(ve.Fields) > 0 {
		// One error naming the attributes refused above and those
		// FromBinary refused among the rest.
		ve.Fields = append(ve.Fields, ebevent.Fields(err)...)
		return nil, ve.Err()
	}
	for name, v := range natives {
		if _, ext := ebevent.Extension(e, name); ext {
			if err := e.Context.SetExtension(name, v); err != nil {
				ve.Add(name, "%v", err)
			}
		}
	}
	return e, ve.Err()
}

// attrValue returns the canonical string and the native value of an
// attribute value.
func attrValue(v *pb.CloudEventAttributeValue) (string, any, error) {
	switch a := v.GetAttr().(type) {
	case *pb.CloudEventAttributeValue_CeBoolean:
		return strconv.FormatBool(a.CeBoolean), a.CeBoolean, nil
	case *pb.CloudEventAttributeValue_CeInteger:
		return strconv.FormatInt(int64(a.CeInteger), 10), a.CeInteger, nil
	case *pb.CloudEventAttributeValue_CeString:
		if !utf8.ValidString(a.CeString) {
			return "", nil, errors.New("not valid UTF-8")
		}
		return a.CeString, a.CeString, nil
	case *pb.CloudEventAttributeValue_CeBytes:
		return base64.StdEncoding.EncodeToString(a.CeBytes), a.CeBytes, nil
	case *pb.CloudEventAttributeValue_CeUri:
		u, err := url.Parse(a.CeUri)
		if err != nil || !u.IsAbs() {
			return "", nil, fmt.Errorf("not an absolute URI: %q", a.CeUri)
		}
		return a.CeUri, types.URI{URL: *u}, nil
	case *pb.CloudEventAttributeValue_CeUriRef:
		u, err := url.Parse(a.CeUriRef)
		if err != nil {
			return "", nil, fmt.Errorf("not a URI-reference: %v", err)
		}
		return a.CeUriRef, types.URIRef{URL: *u}, nil
	case *pb.CloudEventAttributeValue_CeTimestamp:
		if err := a.CeTimestamp.CheckValid(); err != nil {
			return "", nil, fmt.Errorf("not a timestamp: %v", err)
		}
		t := a.CeTimestamp.AsTime().UTC()
		return t.Format(time.RFC3339Nano), t, nil
	}
	return "", nil, errors.New("has no value")
}

// ToProto writes e in the protobuf format: typed attributes, protobuf
// data in proto_data, any other data in binary_data. The bridge holds
// data as bytes, which the format puts in binary_data; text_data would
// also do for text, but sdk-go's reader (v2.16) turns text_data of a JSON
// type into a JSON string, so binary_data is what every reader gets right.
func ToProto(e *ce.Event) (*pb.CloudEvent, error) {
	p := &pb.CloudEvent{Id: e.ID(), Source: e.Source(), SpecVersion: e.SpecVersion(), Type: e.Type(),
		Attributes: map[string]*pb.CloudEventAttributeValue{}}
	ext := e.Extensions()
	for name, s := range ebevent.BinaryAttributes(e) {
		switch name {
		case "specversion", "id", "source", "type":
			continue
		case "time":
			p.Attributes[name] = &pb.CloudEventAttributeValue{Attr: &pb.CloudEventAttributeValue_CeTimestamp{CeTimestamp: timestamppb.New(e.Time())}}
		case "dataschema":
			p.Attributes[name] = &pb.CloudEventAttributeValue{Attr: &pb.CloudEventAttributeValue_CeUri{CeUri: s}}
		case "schemaurl":
			p.Attributes[name] = &pb.CloudEventAttributeValue{Attr: &pb.CloudEventAttributeValue_CeUriRef{CeUriRef: s}}
		default:
			if v, ok := ext[name]; ok {
				p.Attributes[name] = extValue(v, s)
			} else {
				p.Attributes[name] = &pb.CloudEventAttributeValue{Attr: &pb.CloudEventAttributeValue_CeString{CeString: s}}
			}
		}
	}
	ct := e.DataContentType()
	if ct != "" {
		p.Attributes["datacontenttype"] = &pb.CloudEventAttributeValue{Attr: &pb.CloudEventAttributeValue_CeString{CeString: ct}}
	}
	data := e.Data()
	switch {
	case len(data) == 0:
	case ct == ContentTypeProtobuf:
		p.Data = &pb.CloudEvent_ProtoData{ProtoData: &anypb.Any{TypeUrl: e.DataSchema(), Value: data}}
	default:
		p.Data = &pb.CloudEvent_BinaryData{BinaryData: data}
	}
	return p, nil
}

// extValue types an extension value for the format; s is its canonical
// string, used for types the format lacks.
func extValue(v any, s string) *pb.CloudEventAttributeValue {
	switch x := v.(type) {
	case bool:
		return &pb.CloudEventAttributeValue{Attr: &pb.CloudEventAttributeValue_CeBoolean{CeBoolean: x}}
	case int32:
		return &pb.CloudEventAttributeValue{Attr: &pb.CloudEventAttributeValue_CeInteger{CeInteger: x}}
	case []byte:
		return &pb.CloudEventAttributeValue{Attr: &pb.CloudEventAttributeValue_CeBytes{CeBytes: x}}
	case types.URI:
		return &pb.CloudEventAttributeValue{Attr: &pb.CloudEventAttributeValue_CeUri{CeUri: s}}
	case types.URIRef:
		return &pb.CloudEventAttributeValue{Attr: &pb.CloudEventAttributeValue_CeUriRef{CeUriRef: s}}
	case types.Timestamp:
		return &pb.CloudEventAttributeValue{Attr: &pb.CloudEventAttributeValue_CeTimestamp{CeTimestamp: timestamppb.New(x.Time)}}
	}
	return &pb.CloudEventAttributeValue{Attr: &pb.CloudEventAttributeValue_CeString{CeString: s}}
}
