package bus

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unsafe"

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
	var scratch [128]byte // source and time are formatted here, not into new strings
	writeURL(s, scratch[:0], &ec.Source.URL)
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
		writeURL(s, scratch[:0], &ec.DataSchema.URL)
	}
	if ec.Time != nil {
		s.WriteMore()
		s.WriteObjectField("time")
		// types.Timestamp.String's bytes: UTC, RFC 3339 with nanoseconds,
		// which need no JSON escaping.
		b := append(scratch[:0], '"')
		b = ec.Time.Time.UTC().AppendFormat(b, time.RFC3339Nano)
		_, _ = s.Write(append(b, '"'))
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
			// Base64 needs no JSON escaping: encoded into the stream's
			// buffer, not into a string first.
			b := append(s.Buffer(), '"')
			b = base64.StdEncoding.AppendEncode(b, e.DataEncoded)
			s.SetBuffer(append(b, '"'))
		default:
			s.WriteObjectField("data")
			s.WriteString(unsafeString(e.DataEncoded))
		}
	}
	if s.Error != nil {
		return fmt.Errorf("error while writing the event data: %w", s.Error)
	}
	if len(ec.Extensions) > 0 {
		var nameBuf [8]string // on the stack for a few extensions
		names := nameBuf[:0]
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

// writeURL writes u as a JSON string, as WriteString(u.String()) would,
// formatting it into scratch instead of a new string.
func writeURL(s *jsoniter.Stream, scratch []byte, u *url.URL) {
	b, err := u.AppendBinary(scratch)
	if err != nil { // never, for a url.URL
		s.WriteString(u.String())
		return
	}
	s.WriteString(unsafeString(b))
}

// unsafeString is b as a string without a copy, for the stream's
// WriteString, which copies it into its buffer and keeps nothing: b must
// not change while the string is in use.
func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
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
