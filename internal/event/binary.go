package event

import (
	"cmp"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/cloudevents/sdk-go/v2/types"
)

// FromBinary builds an event from binary-mode parts: attributes by name
// (canonical string values, already decoded from the protocol's escaping),
// the protocol's content type, and the data. Its error is a
// *ValidationError naming every bad attribute.
func FromBinary(attrs map[string]string, contentType string, data []byte) (*ce.Event, error) {
	return fromBinary(attrs, contentType, data, true)
}

// fromBinary is FromBinary; fast lets it check a 1.0 event's attributes
// (validateV1Attrs) instead of validating the built event (Validate):
// the tests hold the two ways to the same answers.
func fromBinary(attrs map[string]string, contentType string, data []byte, fast bool) (*ce.Event, error) {
	var ve ValidationError
	// CloudEvents strings are Unicode; a value that is not UTF-8 would be
	// changed (to U+FFFD) by the JSON format the bus keeps events in.
	bad := []string{}
	for name, v := range attrs {
		if !utf8.ValidString(v) {
			bad = append(bad, name)
		}
	}
	sort.Strings(bad)
	for _, name := range bad {
		ve.Add(name, "not valid UTF-8")
	}
	if !utf8.ValidString(contentType) {
		ve.Add("datacontenttype", "not valid UTF-8")
	}
	sv, ok := attrs["specversion"]
	switch {
	case !ok:
		ve.Add("specversion", "missing: a binary-mode CloudEvent needs the specversion attribute (\"1.0\")")
	case !IsSupportedSpecVersion(sv):
		ve.Add("specversion", "unsupported specversion %q: use \"1.0\" (or \"0.3\")", sv)
	}
	for _, name := range []string{"id", "source", "type"} {
		v, ok := attrs[name]
		switch {
		case !ok:
			ve.Add(name, "missing: a CloudEvent needs a non-empty %s", name)
		case strings.TrimSpace(v) == "":
			ve.Add(name, "must be a non-empty string")
		}
	}
	var source *url.URL
	if v, ok := attrs["source"]; ok && strings.TrimSpace(v) != "" {
		u, err := parseURIRef(v)
		if err != nil {
			ve.Add("source", "must be a URI-reference: %v", err)
		}
		source = u
	}
	var t time.Time
	if v, ok := attrs["time"]; ok {
		ts, err := parseTime(v)
		if err != nil {
			ve.Add("time", "not an RFC 3339 timestamp: %v", err)
		}
		t = ts
	}
	if v, ok := attrs["subject"]; ok && v == "" {
		ve.Add("subject", "must be non-empty when present")
	}
	// The schema is 1.0's dataschema (a URI) or 0.3's schemaurl (a
	// URI-reference); the other name is an extension in each version.
	schemaName := schemaAttr(sv)
	var schema *url.URL
	if v, ok := attrs[schemaName]; ok {
		if u, err := parseURIRef(v); err != nil {
			ve.Add(schemaName, "must be a URI: %v", err)
		} else if !u.IsAbs() && schemaName == "dataschema" {
			ve.Add(schemaName, "must be an absolute URI")
		} else if v != "" {
			schema = u
		}
	}
	if contentType != "" {
		if err := checkMediaType(contentType); err != nil {
			ve.Add("datacontenttype", "not a media type (RFC 2046): %v", err)
		}
	}
	if ct := cmp.Or(contentType, attrs["datacontenttype"]); ct != "" && IsJSONContentType(ct) && !utf8.Valid(data) {
		// JSON text is UTF-8 (RFC 8259 §8.1), and structured mode refuses
		// a body that is not; binary mode keeps the same rule rather than
		// storing the bytes as base64 that no JSON reader could take.
		ve.Add("data", "the content type says JSON, and JSON must be UTF-8; this is not")
	}
	// The names of the extensions, sorted: on the stack for the few an
	// event usually has (slices.Sort, unlike sort.Strings, keeps it there).
	var extBuf [8]string
	exts := extBuf[:0]
	for name := range attrs {
		switch name {
		case "specversion", "id", "source", "type", "time", "subject", schemaName, "datacontenttype":
		default:
			exts = append(exts, name)
		}
	}
	slices.Sort(exts)
	for _, name := range exts {
		if !ValidAttributeName(name) {
			ve.Add(name, "invalid extension name: use only lower-case letters a-z and digits 0-9")
		}
	}
	if err := errOf(&ve); err != nil {
		return nil, err
	}
	e := ce.New(sv)
	// The source parsed above, not parsed again by SetSource.
	setSource(&e, source)
	setVerbatim(&e, attrs["id"], attrs["type"], attrs["subject"])
	if !t.IsZero() {
		e.SetTime(t)
	}
	if schema != nil {
		setSchema(&e, schema)
	}
	// Checked by checkMediaType above, or none.
	ctChecked := contentType != "" || attrs["datacontenttype"] == ""
	if contentType == "" {
		contentType = attrs["datacontenttype"]
	}
	if contentType != "" {
		e.SetDataContentType(contentType)
	}
	for _, name := range exts {
		if err := e.Context.SetExtension(name, attrs[name]); err != nil {
			ve.Add(name, "%v", err)
		}
	}
	// The data of a JSON content type (one given, not the absent one) was
	// found UTF-8 above, or the event is refused below: setBinaryData
	// need not look again.
	setBinaryData(&e, data, contentType != "" && IsJSONContentType(contentType))
	if err := errOf(&ve); err != nil {
		return nil, err
	}
	var err error
	if fast && sv == ce.CloudEventsVersionV1 && ctChecked {
		// What Validate would still find in a 1.0 event built from these
		// attributes, found in them without re-reading the event (sdk-go's
		// Validate formats the source and copies the extensions).
		err = validateV1Attrs(attrs, exts)
	} else {
		err = Validate(&e)
	}
	if err != nil {
		return nil, err
	}
	return &e, nil
}

// validateV1Attrs is Validate of a 1.0 event that FromBinary built from
// attrs, whose extensions are exts, and whose datacontenttype (if any)
// passed checkMediaType: every check of Validate that FromBinary's own
// have not already made. FuzzFromBinaryValidation holds the two
// to the same answers.
func validateV1Attrs(attrs map[string]string, exts []string) error {
	var ve ValidationError
	if v, ok := attrs["subject"]; ok && strings.TrimSpace(v) == "" {
		// sdk-go's Validate, as Validate reports it.
		ve.Add("subject", "%s", "if present, MUST be a non-empty string")
	}
	for _, name := range exts {
		checkString(&ve, name, attrs[name])
	}
	for _, name := range [...]string{"id", "source", "type", "subject"} {
		checkString(&ve, name, attrs[name])
	}
	return errOf(&ve)
}

// setSource sets e's source to u (nil: leaves it unset), parsed once by
// parseURIRef: SetSource would parse the text again.
func setSource(e *ce.Event, u *url.URL) {
	if u == nil {
		return
	}
	switch ec := e.Context.(type) {
	case *ce.EventContextV1:
		ec.Source = types.URIRef{URL: *u}
	case *ce.EventContextV03:
		ec.Source = types.URIRef{URL: *u}
	}
}

// schemaAttr names the schema attribute of a specversion.
func schemaAttr(specversion string) string {
	if specversion == ce.CloudEventsVersionV03 {
		return "schemaurl"
	}
	return "dataschema"
}

// setVerbatim sets id, type and subject (when not "") as they are: sdk-go's
// setters trim spaces, which the JSON format's decoder does not, so the
// same event would have another id (and dedup key) in binary mode.
func setVerbatim(e *ce.Event, id, typ, subject string) {
	var sub *string
	if subject != "" {
		sub = &subject
	}
	switch ec := e.Context.(type) {
	case *ce.EventContextV1:
		ec.ID, ec.Type, ec.Subject = id, typ, sub
	case *ce.EventContextV03:
		ec.ID, ec.Type, ec.Subject = id, typ, sub
	}
}

// setSchema sets dataschema (schemaurl in 0.3) to u, which parseURIRef
// checked is written as it came: sdk-go's SetDataSchema trims spaces, and
// the JSON format's decoder does not, so "a: " would reach the bus as "a:"
// in binary mode and as "a: " in structured mode.
func setSchema(e *ce.Event, u *url.URL) {
	switch ec := e.Context.(type) {
	case *ce.EventContextV1:
		ec.DataSchema = &types.URI{URL: *u}
	case *ce.EventContextV03:
		ec.SchemaURL = &types.URIRef{URL: *u}
	}
}

// SetBinaryData sets data that arrived as raw bytes (binary mode, a wrapped
// request) on e, whose datacontenttype is set, so that the JSON event format,
// in which the bus keeps events, carries it unchanged: JSON data of a JSON
// content type (or none) stays a JSON value, UTF-8 data of another type a
// string, and anything else (bytes that are not the JSON the content type
// claims, or not UTF-8) becomes base64. Without this, sdk-go writes invalid
// JSON into the bus (a non-JSON body without Content-Type) or JSON that is
// not UTF-8. Empty data leaves e without data.
func SetBinaryData(e *ce.Event, data []byte) {
	setBinaryData(e, data, false)
}

// setBinaryData is SetBinaryData; utf8Checked says data is known to be
// UTF-8.
func setBinaryData(e *ce.Event, data []byte, utf8Checked bool) {
	if len(data) == 0 {
		return
	}
	e.DataEncoded = data
	ok := utf8Checked || utf8.Valid(data)
	if IsJSONContentType(e.DataContentType()) {
		ok = ok && validJSON(data)
	}
	if !ok {
		e.DataBase64 = true
		if e.SpecVersion() == ce.CloudEventsVersionV03 {
			e.SetDataContentEncoding(ce.Base64)
		}
	}
}

// BinaryContentType is the content type a binary-mode encoder sends for
// e: its datacontenttype or, when it has none, application/json (which an
// absent datacontenttype implies) for data that is UTF-8 and not carried
// as base64, and none for other data: saying JSON of bytes that are not
// would get the event refused at the next hop (FromBinary).
func BinaryContentType(e *ce.Event) string {
	if ct := e.DataContentType(); ct != "" {
		return ct
	}
	if d := e.Data(); len(d) > 0 && !e.DataBase64 && utf8.Valid(d) {
		return "application/json"
	}
	return ""
}

// BinaryAttributes returns every attribute of e except datacontenttype
// (which travels as the protocol's content type) as canonical strings, for
// binary-mode encoders. Its cost is linear in the number of extensions.
func BinaryAttributes(e *ce.Event) map[string]string {
	m := make(map[string]string, 8+len(extensions(e)))
	RangeBinaryAttributes(e, func(name, v string) { m[name] = v })
	return m
}

// RangeBinaryAttributes calls f with the name and canonical string of
// every attribute BinaryAttributes returns, in no fixed order, without
// building a map (the encoders' per-event path).
func RangeBinaryAttributes(e *ce.Event, f func(name, v string)) {
	f("specversion", e.SpecVersion())
	f("id", e.ID())
	f("source", e.Source())
	f("type", e.Type())
	if v := e.Subject(); v != "" {
		f("subject", v)
	}
	if t := e.Time(); !t.IsZero() {
		f("time", t.UTC().Format(time.RFC3339Nano))
	}
	if v := e.DataSchema(); v != "" {
		if e.SpecVersion() == ce.CloudEventsVersionV03 {
			f("schemaurl", v) // Attr's name for it is dataschema
		} else {
			f("dataschema", v)
		}
	}
	for name, v := range extensions(e) {
		if s, ok := formatExt(v); ok {
			f(name, s)
		}
	}
}

// PercentEncode encodes a header value as the HTTP and NATS bindings
// require: space, '"', '%' and every byte outside U+0021..U+007E become
// %XY (UTF-8 bytes, upper-case hex).
func PercentEncode(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if mustPercent(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	const hex = "0123456789ABCDEF"
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if mustPercent(c) {
			b = append(b, '%', hex[c>>4], hex[c&15])
		} else {
			b = append(b, c)
		}
	}
	return string(b)
}

func mustPercent(c byte) bool { return c <= 0x20 || c >= 0x7f || c == '"' || c == '%' }

// PercentDecode decodes a header value: an RFC 7230 quoted-string is
// unquoted first, then one round of percent-decoding (lower-case hex and
// unneeded escapes accepted). The result must be valid UTF-8.
func PercentDecode(s string) (string, error) {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		var b strings.Builder
		for i := 1; i < len(s)-1; i++ {
			if s[i] == '\\' && i+1 < len(s)-1 {
				i++
			}
			b.WriteByte(s[i])
		}
		s = b.String()
	}
	if strings.IndexByte(s, '%') >= 0 {
		b := make([]byte, 0, len(s))
		for i := 0; i < len(s); i++ {
			if s[i] != '%' {
				b = append(b, s[i])
				continue
			}
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return "", fmt.Errorf("bad percent-encoding at byte %d", i)
			}
			b = append(b, fromHex(s[i+1])<<4|fromHex(s[i+2]))
			i += 2
		}
		s = string(b)
	}
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("not valid UTF-8 after percent-decoding")
	}
	return s, nil
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func fromHex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}
