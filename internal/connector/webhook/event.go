package webhook

import (
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	ce "github.com/cloudevents/sdk-go/v2/event"

	ebevent "github.com/eventbridge-dev/eventbridge/internal/event"
)

// Event is a CloudEvent under construction, attribute by attribute.
type Event struct {
	ID, Source, Type, Subject string
	// Time is left out when zero.
	Time time.Time
	// DataSchema is left out when "".
	DataSchema      string
	DataContentType string
	Data            []byte
	// Extensions are string-valued; names must be valid (see
	// ExtensionName).
	Extensions map[string]string
}

// Build returns the CloudEvent, validated as the binary mode of the HTTP
// binding would be (ebevent.FromBinary): the error is an
// *ebevent.ValidationError naming each bad attribute.
func (e *Event) Build() (*ce.Event, error) {
	attrs := make(map[string]string, 6+len(e.Extensions))
	for k, v := range e.Extensions {
		attrs[k] = v
	}
	attrs["specversion"] = ce.CloudEventsVersionV1
	attrs["id"] = e.ID
	attrs["source"] = e.Source
	attrs["type"] = e.Type
	if e.Subject != "" {
		attrs["subject"] = e.Subject
	}
	if !e.Time.IsZero() {
		attrs["time"] = e.Time.UTC().Format(time.RFC3339Nano)
	}
	if e.DataSchema != "" {
		attrs["dataschema"] = e.DataSchema
	}
	// Values come from headers and payloads: bytes that are not UTF-8
	// would be replaced when the bus writes the event as JSON, changing
	// its id (and dedup key) or source.
	var ve ebevent.ValidationError
	for _, k := range slices.Sorted(maps.Keys(attrs)) {
		if v := attrs[k]; !utf8.ValidString(v) || strings.ContainsFunc(v, unicode.IsControl) {
			ve.Add(k, "must be UTF-8 text without control characters")
		}
	}
	if err := ve.Err(); err != nil {
		return nil, err
	}
	return ebevent.FromBinary(attrs, e.DataContentType, e.Data)
}

// ExtensionName turns a vendor's attribute name into a valid CloudEvents
// extension name: lower-cased, with every character outside a-z and 0-9
// dropped ("Message-Group" → "messagegroup"). It returns "" when nothing
// is left, or when the result is a context attribute's name (which an
// extension may not take) or "data".
func ExtensionName(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	n := b.String()
	switch n {
	case "", "data", "specversion", "id", "source", "type", "subject", "time", "datacontenttype", "dataschema", "schemaurl", "datacontentencoding", "database64":
		return ""
	}
	return n
}

// BodyID is the id given to a delivery that carries none: the SHA-256 of
// the body, in hex. A sender retrying the same body gets the same id, so
// the bus stores it once.
func BodyID(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}
