package bus

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"

	ce "github.com/cloudevents/sdk-go/v2/event"
	jsoniter "github.com/json-iterator/go"
)

// writeEventJSON writes e in the JSON format into buf: the bytes of sdk-go's
// ce.WriteJson, which it calls for events other than CloudEvents 1.0.
//
// For 1.0 events it makes the same calls on the same jsoniter stream, with
// one difference: the stream has no writer, and its bytes are copied into
// buf at the end. ce.WriteJson gives the stream buf as its writer, and the
// stream, when it writes the data member through to that writer, keeps only
// the unused tail of its buffer, so that every event with JSON data makes
// the pooled stream allocate a new one. TestWriteEventJSONIsSDKs holds the
// two to the same output.
func writeEventJSON(e *ce.Event, buf *bytes.Buffer) error {
	ec, ok := e.Context.(*ce.EventContextV1)
	if !ok {
		return ce.WriteJson(e, buf)
	}
	s := jsoniter.ConfigFastest.BorrowStream(nil)
	defer jsoniter.ConfigFastest.ReturnStream(s)
	s.WriteObjectStart()
	s.WriteObjectField("specversion")
	s.WriteString(ce.CloudEventsVersionV1)
	s.WriteMore()
	s.WriteObjectField("id")
	s.WriteString(ec.ID)
	s.WriteMore()
	s.WriteObjectField("source")
	s.WriteString(ec.Source.String())
	s.WriteMore()
	s.WriteObjectField("type")
	s.WriteString(ec.Type)
	if ec.Subject != nil {
		s.WriteMore()
		s.WriteObjectField("subject")
		s.WriteString(*ec.Subject)
	}
	if ec.DataContentType != nil {
		s.WriteMore()
		s.WriteObjectField("datacontenttype")
		s.WriteString(*ec.DataContentType)
	}
	if ec.DataSchema != nil {
		s.WriteMore()
		s.WriteObjectField("dataschema")
		s.WriteString(ec.DataSchema.String())
	}
	if ec.Time != nil {
		s.WriteMore()
		s.WriteObjectField("time")
		s.WriteString(ec.Time.String())
	}
	if s.Error != nil {
		return fmt.Errorf("error while writing the event attributes: %w", s.Error)
	}
	if e.DataEncoded != nil {
		s.WriteMore()
		mediaType := ce.ApplicationJSON
		if ec.DataContentType != nil {
			ct := *ec.DataContentType
			if i := strings.IndexRune(ct, ';'); i >= 0 {
				ct = ct[:i]
			}
			mediaType = strings.TrimSpace(strings.ToLower(ct))
		}
		switch {
		case sdkJSON(mediaType) && !e.DataBase64:
			s.WriteObjectField("data")
			_, _ = s.Write(e.DataEncoded) // no writer: appends
		case e.DataBase64:
			s.WriteObjectField("data_base64")
			s.WriteString(base64.StdEncoding.EncodeToString(e.DataEncoded))
		default:
			s.WriteObjectField("data")
			s.WriteString(string(e.DataEncoded))
		}
	}
	if s.Error != nil {
		return fmt.Errorf("error while writing the event data: %w", s.Error)
	}
	if len(ec.Extensions) > 0 {
		names := make([]string, 0, len(ec.Extensions))
		for name := range ec.Extensions {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			s.WriteMore()
			s.WriteObjectField(name)
			s.WriteVal(ec.Extensions[name])
		}
	}
	s.WriteObjectEnd()
	if s.Error != nil {
		return fmt.Errorf("error while writing the event extensions: %w", s.Error)
	}
	_, err := buf.Write(s.Buffer())
	return err
}

// sdkJSON is sdk-go's isJSON (event/content_type.go): the media types whose
// data it writes as a JSON value.
func sdkJSON(mediaType string) bool {
	switch mediaType {
	case "", ce.ApplicationJSON, ce.TextJSON, ce.ApplicationCloudEventsJSON, ce.ApplicationCloudEventsBatchJSON:
		return true
	}
	return false
}
