package event

import (
	"encoding/base64"
	"encoding/json"
	"mime"
	"strings"
	"time"
	"unicode/utf8"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/cloudevents/sdk-go/v2/types"
)

// IsJSONContentType reports whether a datacontenttype denotes JSON:
// empty (JSON is implied), */json or */*+json, parameters ignored.
func IsJSONContentType(ct string) bool {
	if ct == "" {
		return true
	}
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	ct = strings.ToLower(strings.TrimSpace(ct))
	return ct == "application/json" || ct == "text/json" || strings.HasSuffix(ct, "/json") || strings.HasSuffix(ct, "+json")
}

// IsTextContentType reports whether data of this content type is text that
// can be shown as a JSON string.
func IsTextContentType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	return strings.HasPrefix(mt, "text/") || strings.HasSuffix(mt, "+xml") || mt == "application/xml"
}

// Form returns the event's JSON form: the map that filters (EventBridge
// patterns) and transforms (jq) see. Attributes and extensions are top-level
// members with their canonical JSON types; data is nested as a JSON value
// when the content type is JSON, as a string when it is text, and as
// data_base64 otherwise. It is the same shape as the JSON event format.
func Form(e *ce.Event) map[string]any { return form(e, true) }

// FormAttributes is Form without data (and data_base64): what a matcher
// needs when no pattern looks at data, without the cost of decoding it.
func FormAttributes(e *ce.Event) map[string]any { return form(e, false) }

// FormAttributesInto is FormAttributes written into m (which it clears),
// for a caller that reuses the map.
func FormAttributesInto(m map[string]any, e *ce.Event) map[string]any {
	clear(m)
	return formInto(m, e, false)
}

func form(e *ce.Event, withData bool) map[string]any {
	return formInto(make(map[string]any, 8+len(e.Extensions())), e, withData)
}

func formInto(m map[string]any, e *ce.Event, withData bool) map[string]any {
	m["specversion"] = e.SpecVersion()
	m["id"] = e.ID()
	m["source"] = e.Source()
	m["type"] = e.Type()
	if v := e.Subject(); v != "" {
		m["subject"] = v
	}
	if t := e.Time(); !t.IsZero() {
		m["time"] = t.UTC().Format(time.RFC3339Nano)
	}
	if v := e.DataSchema(); v != "" {
		m["dataschema"] = v
	}
	ct := e.DataContentType()
	if ct != "" {
		m["datacontenttype"] = ct
	}
	for k, v := range e.Extensions() {
		m[k] = extensionJSON(v)
	}
	data := e.Data()
	if data == nil || !withData {
		return m
	}
	switch {
	case e.DataBase64:
		m["data_base64"] = base64.StdEncoding.EncodeToString(data)
	case IsJSONContentType(ct):
		var v any
		if err := json.Unmarshal(data, &v); err == nil {
			m["data"] = v
		} else if utf8.Valid(data) {
			m["data"] = string(data)
		} else {
			m["data_base64"] = base64.StdEncoding.EncodeToString(data)
		}
	case utf8.Valid(data):
		m["data"] = string(data)
	default:
		m["data_base64"] = base64.StdEncoding.EncodeToString(data)
	}
	return m
}

// extensionJSON gives an extension value its JSON-form type.
func extensionJSON(v any) any {
	switch x := v.(type) {
	case string, bool:
		return x
	case int32:
		return float64(x)
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case []byte:
		return base64.StdEncoding.EncodeToString(x)
	case types.Timestamp:
		return x.Time.UTC().Format(time.RFC3339Nano)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	default:
		s, err := types.Format(v)
		if err != nil {
			return nil
		}
		return s
	}
}

// SetData sets e's data to raw bytes of content type ct (kept when ct is
// empty), the way SetBinaryData chooses how the JSON format carries them.
// sdk-go's SetData marks every []byte as binary, which would turn JSON data
// into data_base64.
func SetData(e *ce.Event, ct string, data []byte) {
	if ct != "" {
		e.SetDataContentType(ct)
	}
	e.DataEncoded, e.DataBase64 = nil, false
	SetBinaryData(e, data)
}
