// Package amqpbinding is the CloudEvents AMQP protocol binding, apart from
// any AMQP client library: which messages are CloudEvents, how attributes
// map onto application properties, and how native AMQP values read as the
// canonical strings of the CloudEvents type system. The amqp (0-9-1) and
// amqp1 (1.0) connectors share it.
//
// Binary mode: the AMQP content-type is datacontenttype, the body is the
// data, and every other attribute is an application property named
// "cloudEvents:<name>" (binding 1.0.2) or "cloudEvents_<name>" (the
// binding's later text, which JMS selectors need); decoders accept both.
// Structured mode: content-type application/cloudevents+json and the JSON
// event format as the body.
package amqpbinding

import (
	"encoding/base64"
	"fmt"
	"math"
	"mime"
	"strconv"
	"strings"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/cloudevents/sdk-go/v2/types"

	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
)

// The application-property prefixes of binary mode.
const (
	PrefixColon      = "cloudEvents:"
	PrefixUnderscore = "cloudEvents_"
)

// MediaStructured is the content type of structured mode.
const MediaStructured = "application/cloudevents+json"

// Kind is what a message is, as far as the binding can tell.
type Kind int

// The kinds of message.
const (
	// NotCloudEvent: neither a structured content type nor any
	// cloudEvents-prefixed property. A source wraps or rejects it.
	NotCloudEvent Kind = iota
	// Binary: attributes in application properties.
	Binary
	// Structured: an event format in the body.
	Structured
)

func (k Kind) String() string {
	return [...]string{"not a CloudEvent", "binary", "structured"}[k]
}

// Detect tells the kind of a message from its content type and
// application properties.
func Detect(contentType string, props map[string]any) Kind {
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(contentType)), "application/cloudevents") {
		return Structured
	}
	for k := range props {
		if strings.HasPrefix(k, PrefixColon) || strings.HasPrefix(k, PrefixUnderscore) {
			return Binary
		}
	}
	return NotCloudEvent
}

// Decode reads a message. When it is a CloudEvent that does not validate,
// the error is an event.ValidationError naming every bad attribute; kind is
// still set, so that the caller can tell an invalid event from a message
// that is no event at all (kind NotCloudEvent, nil event, nil error).
func Decode(contentType string, props map[string]any, body []byte) (*ce.Event, Kind, error) {
	switch kind := Detect(contentType, props); kind {
	case Structured:
		mt, _, err := mime.ParseMediaType(contentType)
		if err != nil || (mt != MediaStructured && mt != "application/cloudevents") {
			var ve ebevent.ValidationError
			ve.Add("datacontenttype", "event format %q is not supported: use %s", contentType, MediaStructured)
			return nil, kind, ve.Err()
		}
		e, err := ebevent.DecodeJSON(body)
		return e, kind, err
	case Binary:
		attrs, err := Attributes(props)
		if err != nil {
			return nil, kind, err
		}
		e, err := ebevent.FromBinary(attrs, contentType, body)
		return e, kind, err
	default:
		return nil, NotCloudEvent, nil
	}
}

// Attributes returns the CloudEvents attributes among props, by name, as
// canonical strings. A name sent under both prefixes, and a value of a
// type the CloudEvents type system has no place for, are errors.
func Attributes(props map[string]any) (map[string]string, error) {
	attrs := make(map[string]string, len(props))
	var ve ebevent.ValidationError
	for k, v := range props {
		name, ok := strings.CutPrefix(k, PrefixColon)
		if !ok {
			if name, ok = strings.CutPrefix(k, PrefixUnderscore); !ok {
				continue
			}
		}
		if _, dup := attrs[name]; dup {
			ve.Add(name, "sent twice, as %s%s and %s%s", PrefixColon, name, PrefixUnderscore, name)
			continue
		}
		s, err := CanonicalString(v)
		if err != nil {
			ve.Add(name, "%v", err)
			continue
		}
		attrs[name] = s
	}
	return attrs, ve.Err()
}

// CanonicalString turns a native AMQP value (as either client library
// decodes it) into the canonical string of the CloudEvents type system:
// booleans "true"/"false", integers in decimal (within 32 bits, as
// CloudEvents integers are), timestamps in RFC 3339, binary in base64.
func CanonicalString(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case int8, int16, int32, int64, int, uint8, uint16, uint32, uint64, uint:
		n, ok := toInt64(x)
		if !ok || n < math.MinInt32 || n > math.MaxInt32 {
			return "", fmt.Errorf("integer %v is outside the 32-bit range of CloudEvents integers", x)
		}
		return strconv.FormatInt(n, 10), nil
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano), nil
	case []byte:
		return base64.StdEncoding.EncodeToString(x), nil
	case fmt.Stringer: // symbols and other string kinds of the client libraries
		return x.String(), nil
	}
	if s, ok := stringKind(v); ok {
		return s, nil
	}
	return "", fmt.Errorf("a value of AMQP type %T has no CloudEvents type", v)
}

func toInt64(v any) (int64, bool) {
	switch x := v.(type) {
	case int8:
		return int64(x), true
	case int16:
		return int64(x), true
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case int:
		return int64(x), true
	case uint8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case uint64:
		return int64(x), x <= math.MaxInt64
	case uint:
		return int64(x), uint64(x) <= math.MaxInt64
	}
	return 0, false
}

// Natives says which attribute types an encoder writes as native AMQP
// values; the others are canonical strings.
type Natives struct {
	// Bool and Int write booleans and integers (as long) natively.
	Bool, Int bool
	// Binary writes binary extensions as AMQP binary.
	Binary bool
	// TimeResolution, when not zero, writes timestamps natively when they
	// lose nothing at that resolution (AMQP 1.0 timestamps count
	// milliseconds); other timestamps stay strings.
	TimeResolution time.Duration
}

// Properties returns e's attributes, except datacontenttype, as the
// application properties of binary mode, named with prefix.
func Properties(e *ce.Event, prefix string, n Natives) map[string]any {
	attrs := ebevent.BinaryAttributes(e)
	props := make(map[string]any, len(attrs))
	for name, s := range attrs {
		props[prefix+name] = s
	}
	if t := e.Time(); !t.IsZero() && n.keepsTime(t) {
		props[prefix+"time"] = t.UTC()
	}
	for name, v := range e.Extensions() {
		switch x := v.(type) {
		case bool:
			if n.Bool {
				props[prefix+name] = x
			}
		case int32:
			if n.Int {
				props[prefix+name] = int64(x)
			}
		case []byte:
			if n.Binary {
				props[prefix+name] = x
			}
		case types.Timestamp:
			if n.keepsTime(x.Time) {
				props[prefix+name] = x.Time.UTC()
			}
		}
	}
	return props
}

func (n Natives) keepsTime(t time.Time) bool {
	return n.TimeResolution > 0 && t.Truncate(n.TimeResolution).Equal(t) && t.Year() >= 1970
}

// ContentType is the content-type of a binary-mode message: the event's
// datacontenttype, or application/json when it has UTF-8 data but no type
// (the JSON format's implied type, stated as the binding asks), and none
// for other data, which the next hop would refuse as JSON
// (ebevent.BinaryContentType).
func ContentType(e *ce.Event) string {
	return ebevent.BinaryContentType(e)
}
