package event

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"unicode/utf8"

	ce "github.com/cloudevents/sdk-go/v2/event"
)

// DecodeJSON parses one event in the JSON format (structured mode). Unlike
// sdk-go's decoder, which stops at the first problem, its error is a
// *ValidationError naming every bad attribute. It sets no limits.
func DecodeJSON(body []byte) (*ce.Event, error) { return Limits{}.DecodeJSON(body) }

// DecodeJSONBatch parses a JSON batch without limits; see
// Limits.DecodeJSONBatch.
func DecodeJSONBatch(body []byte) ([]*ce.Event, error) { return Limits{}.DecodeJSONBatch(body) }

// DecodeJSON is the package's DecodeJSON within l: an event over an
// extension limit is refused with a *LimitError before it is decoded.
func (l Limits) DecodeJSON(body []byte) (*ce.Event, error) {
	if err := checkUTF8(body); err != nil {
		return nil, err
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		var ve ValidationError
		ve.Add("", "not a JSON object: %v", err)
		return nil, ve.Err()
	}
	if err := l.checkMembers(raw, -1); err != nil {
		return nil, err
	}
	return decodeMembers(raw, body)
}

// checkMembers checks the extension limits on the members of a JSON
// event; a member's size is its name and its JSON text.
func (l Limits) checkMembers(raw map[string]json.RawMessage, entry int) error {
	if l.MaxExtensions <= 0 && l.MaxExtensionBytes <= 0 {
		return nil
	}
	n := 0
	for k := range raw {
		if !knownMember(k) {
			n++
		}
	}
	return l.checkExt(n, func(yield func(int) bool) {
		for k, v := range raw {
			if !knownMember(k) && !yield(len(k)+len(v)) {
				return
			}
		}
	}, entry)
}

// checkUTF8 refuses a body that is not UTF-8, which JSON text exchanged
// between systems must be (RFC 8259 §8.1). encoding/json would replace bad
// bytes by U+FFFD while sdk-go keeps them, so the two would disagree on the
// event.
func checkUTF8(body []byte) error {
	if utf8.Valid(body) {
		return nil
	}
	var ve ValidationError
	ve.Add("", "the body is not UTF-8, as JSON must be")
	return ve.Err()
}

// DecodeJSONBatch parses a JSON batch (application/cloudevents-batch+json),
// whose events must all have the same specversion (HTTP binding §3.3).
// When entries are invalid, the error is a *ValidationError whose fields
// are prefixed by the entry index ("[2].id"); no event is returned then,
// since a batch is all-or-nothing.
//
// The entries are counted as the array is scanned, before any is decoded:
// a batch over MaxBatchEntries is refused with a *LimitError as soon as
// the entry past the limit is seen, and an entry that is not an object
// is refused without being decoded.
func (l Limits) DecodeJSONBatch(body []byte) ([]*ce.Event, error) {
	if err := checkUTF8(body); err != nil {
		return nil, err
	}
	entries, rest, err := l.splitBatch(body)
	if err != nil {
		return nil, err
	}
	out := make([]*ce.Event, 0, len(entries))
	var all ValidationError
	version := "" // of the first valid entry
	bad := 0
	for i := 0; i <= len(entries); i++ {
		if bad == maxBadEntries {
			if i < len(entries) || rest {
				all.Add("", "the entries after [%d] were not checked: a batch is refused at its %dth bad entry", i-1, maxBadEntries)
			}
			break
		}
		if i == len(entries) {
			break
		}
		e, err := l.decodeEntry(entries[i], i)
		var le *LimitError
		if errors.As(err, &le) {
			return nil, err
		}
		if err == nil && version != "" && e.SpecVersion() != version {
			var ve ValidationError
			ve.Add("specversion", "a batch holds events of one specversion: %q before, %q here", version, e.SpecVersion())
			err = ve.Err()
		} else if err == nil {
			version = e.SpecVersion()
		}
		if err != nil {
			prefix := "[" + itoa(i) + "]"
			for _, f := range Fields(err) {
				name := prefix
				if f.Field != "" {
					name += "." + f.Field
				}
				all.Add(name, "%s", f.Reason)
			}
			bad++
			continue
		}
		out = append(out, e)
	}
	if len(all.Fields) > 0 {
		return nil, &all // in the order of the entries, not sorted as Err would
	}
	return out, nil
}

// maxBadEntries is how many bad entries of a batch are checked before it
// is refused without checking the rest: each costs the decoding of an
// event and a few errors, none of which a longer list would save.
const maxBadEntries = 1000

// splitBatch returns the entries of a JSON array, undecoded, refusing the
// array at its entry MaxBatchEntries+1. An entry that is not an object is
// returned empty, and the scan stops at the maxBadEntries-th of them, with
// rest true when entries were left unread.
func (l Limits) splitBatch(body []byte) (entries []json.RawMessage, rest bool, err error) {
	notArray := func(err error) error {
		var ve ValidationError
		ve.Add("", "not a JSON array of events: %v", err)
		return ve.Err()
	}
	d := json.NewDecoder(bytes.NewReader(body))
	t, err := d.Token()
	if err != nil {
		return nil, false, notArray(err)
	}
	if t == nil { // null: no entries, as json.Unmarshal reads it
		return nil, false, trailing(d, notArray)
	}
	if t != json.Delim('[') {
		return nil, false, notArray(fmt.Errorf("the body starts with %v", t))
	}
	nonObjects := 0
	for d.More() {
		if l.MaxBatchEntries > 0 && len(entries) == l.MaxBatchEntries {
			return nil, false, &LimitError{Err: ErrTooManyEntries, Entry: -1, Limit: l.MaxBatchEntries}
		}
		if nonObjects == maxBadEntries {
			return entries, true, nil
		}
		var ent json.RawMessage
		if err := d.Decode(&ent); err != nil {
			return nil, false, notArray(err)
		}
		if ent[0] != '{' {
			ent = nil
			nonObjects++
		}
		entries = append(entries, ent)
	}
	if _, err := d.Token(); err != nil { // the closing ]
		return nil, false, notArray(err)
	}
	return entries, false, trailing(d, notArray)
}

// trailing refuses anything but white space after the array.
func trailing(d *json.Decoder, wrap func(error) error) error {
	if _, err := d.Token(); err != io.EOF {
		if err == nil {
			err = errors.New("data after the array")
		}
		return wrap(err)
	}
	return nil
}

// decodeEntry decodes one entry of a batch; one that is not a JSON object
// is refused without decoding it.
func (l Limits) decodeEntry(ent json.RawMessage, i int) (*ce.Event, error) {
	var ve ValidationError
	if len(ent) == 0 || ent[0] != '{' {
		ve.Add("", "not a JSON object")
		return nil, ve.Err()
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(ent, &raw); err != nil {
		ve.Add("", "not a JSON object")
		return nil, ve.Err()
	}
	if err := l.checkMembers(raw, i); err != nil {
		return nil, err
	}
	return decodeMembers(raw, ent)
}

func decodeMembers(raw map[string]json.RawMessage, obj []byte) (*ce.Event, error) {
	var ve ValidationError
	str := func(name string) (string, bool) {
		v, ok := raw[name]
		if !ok || isNull(v) {
			return "", false
		}
		if s, ok := plainString(v); ok {
			return s, true
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			ve.Add(name, "must be a string")
			return "", false
		}
		return s, true
	}
	sv, ok := str("specversion")
	switch {
	case !ok && ve.Err() == nil:
		ve.Add("specversion", "missing: every CloudEvent needs specversion (\"1.0\")")
	case ok && !IsSupportedSpecVersion(sv):
		ve.Add("specversion", "unsupported specversion %q: use \"1.0\" (or \"0.3\")", sv)
	}
	for _, name := range []string{"id", "source", "type"} {
		v, ok := str(name)
		if !ok {
			if _, present := raw[name]; !present || isNull(raw[name]) {
				ve.Add(name, "missing: a CloudEvent needs a non-empty %s", name)
			}
			continue
		}
		if strings.TrimSpace(v) == "" {
			ve.Add(name, "must be a non-empty string")
		}
		if name == "source" && strings.TrimSpace(v) != "" {
			if _, err := parseURIRef(v); err != nil {
				ve.Add(name, "must be a URI-reference: %v", err)
			}
		}
	}
	if v, ok := str("subject"); ok && v == "" {
		ve.Add("subject", "must be non-empty when present")
	}
	ct, hasCT := str("datacontenttype")
	if hasCT {
		if err := checkMediaType(ct); err != nil {
			ve.Add("datacontenttype", "not a media type (RFC 2046): %v", err)
		}
	}
	// 1.0's dataschema is a URI, 0.3's schemaurl a URI-reference; the
	// other name is an extension.
	schemaName := schemaAttr(sv)
	if v, ok := str(schemaName); ok {
		if u, err := parseURIRef(v); err != nil {
			ve.Add(schemaName, "must be a URI: %v", err)
		} else if !u.IsAbs() && schemaName == "dataschema" {
			ve.Add(schemaName, "must be an absolute URI")
		}
	}
	if v, ok := str("time"); ok {
		if _, err := parseTime(v); err != nil {
			ve.Add("time", "not an RFC 3339 timestamp: %v", err)
		}
	}
	data, isBase64 := decodeData(raw, sv, ct, &ve)
	names := make([]string, 0, len(raw))
	for k := range raw {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if knownMember(k) {
			continue
		}
		if !ValidAttributeName(k) {
			ve.Add(k, "invalid extension name: use only lower-case letters a-z and digits 0-9")
			continue
		}
		checkExtensionValue(k, raw[k], &ve)
	}
	if dups := duplicates(raw, obj); len(dups) > 0 {
		// What was said of the value kept (the last) is beside the point.
		dup := make(map[string]bool, len(dups))
		for _, name := range dups {
			dup[name] = true
		}
		kept := ve.Fields[:0]
		for _, f := range ve.Fields {
			if !dup[f.Field] {
				kept = append(kept, f)
			}
		}
		ve.Fields = kept
		for _, name := range dups {
			ve.Add(name, "appears more than once: an attribute has one value")
		}
	}
	if err := ve.Err(); err != nil {
		return nil, err
	}
	// sdk-go reads the attributes; data was read above, because sdk-go
	// treats only application/json and text/json as JSON (not */*+json)
	// and misreads a data_base64 that comes before datacontenttype with
	// whitespace after its colon.
	attrs := make(map[string]json.RawMessage, len(raw))
	for k, v := range raw {
		if k != "data" && k != "data_base64" && k != "specversion" {
			attrs[k] = v
		}
	}
	body, err := json.Marshal(attrs)
	if err != nil {
		ve.Add("", "%v", err)
		return nil, ve.Err()
	}
	// specversion first: sdk-go reads members that come before it by
	// another path (it caches them), which took a number for schemaurl.
	head := `{"specversion":` + string(raw["specversion"])
	if len(attrs) > 0 {
		head += ","
	}
	body = append([]byte(head), body[1:]...)
	e := ce.New()
	if err := e.UnmarshalJSON(body); err != nil {
		ve.Add("", "%v", err)
		return nil, ve.Err()
	}
	if data != nil {
		e.DataEncoded = data
		e.DataBase64 = isBase64
		if isBase64 && e.SpecVersion() == ce.CloudEventsVersionV03 {
			// 0.3 says base64 with datacontentencoding (a data_base64
			// member sent anyway lands here); sdk-go writes 0.3 data as
			// base64 only then.
			e.SetDataContentEncoding(ce.Base64)
		}
	}
	if err := Validate(&e); err != nil {
		return nil, err
	}
	return &e, nil
}

// EncodeJSON writes e in the JSON event format, for other systems to read.
// It is sdk-go's MarshalJSON but for one thing: sdk-go treats only
// application/json and text/json as JSON, and writes data of any other
// */*+json type as a string holding the JSON, where the format wants the
// JSON value itself (JSON format §3.1; DecodeJSON reads it so). The bus
// may keep sdk-go's form, which sdk-go reads back consistently.
func EncodeJSON(e *ce.Event) ([]byte, error) {
	b, err := e.MarshalJSON()
	if err != nil || e.DataEncoded == nil || e.DataBase64 || e.DeprecatedDataContentEncoding() != "" {
		return b, err
	}
	ct := e.DataContentType()
	if !IsJSONContentType(ct) || sdkTreatsAsJSON(ct) || !validJSON(e.DataEncoded) {
		return b, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	m["data"] = e.DataEncoded
	return json.Marshal(m)
}

// sdkTreatsAsJSON mirrors sdk-go's isJSON (event/content_type.go).
func sdkTreatsAsJSON(ct string) bool {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	switch strings.ToLower(strings.TrimSpace(ct)) {
	case "", ce.ApplicationJSON, ce.TextJSON, ce.ApplicationCloudEventsJSON, ce.ApplicationCloudEventsBatchJSON:
		return true
	}
	return false
}

// plainString is the string that v, a JSON value taken from a valid,
// UTF-8 document, holds when it is a string without escapes: its bytes
// between the quotes, as json.Unmarshal would give them, without reflection.
func plainString(v json.RawMessage) (string, bool) {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' || bytes.IndexByte(v[1:len(v)-1], '\\') >= 0 {
		return "", false
	}
	return string(v[1 : len(v)-1]), true
}

// duplicates is duplicateMembers(obj) for the object obj that decoded
// into raw: when obj has as many members as raw, none is repeated, which
// counting tells without decoding a token.
func duplicates(raw map[string]json.RawMessage, obj []byte) []string {
	if memberCount(obj) == len(raw) {
		return nil
	}
	return duplicateMembers(obj)
}

// memberCount is the number of members of obj, a valid JSON object: the
// colons outside strings at its top level (-1 if obj is no object).
func memberCount(obj []byte) int {
	depth, n := 0, 0
	inString := false
	for i := 0; i < len(obj); i++ {
		c := obj[i]
		if inString {
			switch c {
			case '\\':
				i++ // the escaped byte
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			depth++
		case '}', ']':
			depth--
		case ':':
			if depth == 1 {
				n++
			}
		}
	}
	if depth != 0 {
		return -1
	}
	return n
}

// duplicateMembers returns the names that appear more than once in the JSON
// object obj. encoding/json keeps the last value silently, where another
// reader (a filter in front of us, say) may take the first.
func duplicateMembers(obj []byte) []string {
	d := json.NewDecoder(bytes.NewReader(obj))
	if t, err := d.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	seen := map[string]int{}
	var dup []string
	for d.More() {
		t, err := d.Token()
		if err != nil {
			break
		}
		k, _ := t.(string)
		if seen[k]++; seen[k] == 2 {
			dup = append(dup, k)
		}
		var skip json.RawMessage
		if err := d.Decode(&skip); err != nil {
			break
		}
	}
	return dup
}

// decodeData returns the data of a JSON-format event as bytes, and whether
// it was base64 (data_base64, or 0.3's datacontentencoding), adding to ve
// what is wrong with it. Data is nil when the event has none.
func decodeData(raw map[string]json.RawMessage, sv, ct string, ve *ValidationError) ([]byte, bool) {
	dataRaw, hasData := raw["data"]
	if b64, ok := raw["data_base64"]; ok && !isNull(b64) {
		if hasData {
			ve.Add("data_base64", "data and data_base64 must not both be present")
		}
		var s string
		if err := json.Unmarshal(b64, &s); err != nil {
			ve.Add("data_base64", "must be a base64 string")
			return nil, false
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			ve.Add("data_base64", "not valid base64: %v", err)
			return nil, false
		}
		return b, true
	}
	var dce string
	if v, ok := raw["datacontentencoding"]; ok && !isNull(v) && sv == ce.CloudEventsVersionV03 {
		if err := json.Unmarshal(v, &dce); err != nil || !strings.EqualFold(dce, ce.Base64) {
			ve.Add("datacontentencoding", "the only encoding is %q", ce.Base64)
			return nil, false
		}
	}
	if !hasData || (ct != "" && checkMediaType(ct) != nil) {
		// With a bad content type, whether data is right cannot be told;
		// datacontenttype is reported.
		return nil, false
	}
	if dce != "" || !IsJSONContentType(ct) {
		// A string: base64 text, or text of the content type.
		if isNull(dataRaw) {
			return nil, false
		}
		var s string
		if err := json.Unmarshal(dataRaw, &s); err != nil {
			ve.Add("data", "with datacontenttype %q, data must be a JSON string (send other bytes as data_base64)", ct)
			return nil, false
		}
		if dce == "" {
			return []byte(s), false
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			ve.Add("data", "datacontentencoding is base64, but data is not: %v", err)
			return nil, false
		}
		return b, true
	}
	// JSON: the value itself, as sent ("null" included: an explicit null
	// payload is not the absence of data).
	return append([]byte(nil), bytes.TrimSpace(dataRaw)...), false
}

func knownMember(k string) bool {
	switch k {
	case "specversion", "id", "source", "type", "subject", "time", "datacontenttype", "dataschema",
		"data", "data_base64", "schemaurl", "datacontentencoding":
		return true
	}
	return false
}

func checkExtensionValue(name string, v json.RawMessage, ve *ValidationError) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 || isNull(v) {
		return
	}
	switch v[0] {
	case '"', 't', 'f':
		return
	case '{', '[':
		ve.Add(name, "extension values must be strings, booleans or integers, not objects or arrays")
	default:
		f, err := json.Number(string(v)).Float64()
		if err != nil || f != math.Trunc(f) || bytes.ContainsAny(v, ".eE") {
			ve.Add(name, "extension number %s is not a CloudEvents Integer (a whole number)", v)
		} else if f < math.MinInt32 || f > math.MaxInt32 {
			ve.Add(name, "extension integer %s is outside the 32-bit range of a CloudEvents Integer", v)
		}
	}
}

func isNull(v json.RawMessage) bool { return string(bytes.TrimSpace(v)) == "null" }

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b [20]byte
	n := len(b)
	for i > 0 {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
	}
	return string(b[n:])
}
