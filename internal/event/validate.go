package event

import (
	"errors"
	"fmt"
	"mime"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/cloudevents/sdk-go/v2/types"
)

// FieldError is one problem with one attribute of an event.
type FieldError struct {
	// Field is the attribute name (e.g. "id", "time", "my_ext"), prefixed by
	// the entry index for batches ("[3].id").
	Field string `json:"field"`
	// Reason says what is wrong, in words a producer can act on.
	Reason string `json:"reason"`
}

func (f FieldError) String() string { return f.Field + ": " + f.Reason }

// ValidationError lists every problem found in an event. It is returned by
// Validate and by the decoders; callers turn it into a 400 problem document.
type ValidationError struct {
	Fields []FieldError
}

// maxErrorFields is the most fields Error names; the others are counted,
// so that the message of a batch with 100,000 bad entries stays short.
const maxErrorFields = 20

func (e *ValidationError) Error() string {
	n := min(len(e.Fields), maxErrorFields)
	parts := make([]string, n, n+1)
	for i, f := range e.Fields[:n] {
		parts[i] = f.String()
	}
	if more := len(e.Fields) - n; more > 0 {
		parts = append(parts, fmt.Sprintf("and %d more", more))
	}
	return "invalid event: " + strings.Join(parts, "; ")
}

// Add appends a problem.
func (e *ValidationError) Add(field, reason string, args ...any) {
	if len(args) > 0 {
		reason = fmt.Sprintf(reason, args...)
	}
	e.Fields = append(e.Fields, FieldError{Field: field, Reason: reason})
}

// Err returns e when it holds problems, else nil; the fields are sorted so
// that messages are stable.
func (e *ValidationError) Err() error {
	if e == nil || len(e.Fields) == 0 {
		return nil
	}
	sort.SliceStable(e.Fields, func(i, j int) bool { return e.Fields[i].Field < e.Fields[j].Field })
	return e
}

// errOf is ve.Err() for a ValidationError that lives on its caller's
// stack: it is copied to the heap only when it holds an error (Err returns
// its receiver, which would move every such variable to the heap).
func errOf(ve *ValidationError) error {
	if len(ve.Fields) == 0 {
		return nil
	}
	c := &ValidationError{Fields: ve.Fields}
	return c.Err()
}

// Fields returns the field errors of err when it is (or wraps) a
// *ValidationError, else a single entry with an empty field.
func Fields(err error) []FieldError {
	var ve *ValidationError
	if errors.As(err, &ve) {
		return ve.Fields
	}
	if err == nil {
		return nil
	}
	return []FieldError{{Reason: err.Error()}}
}

// SupportedSpecVersions are the specversion values the bridge accepts.
var SupportedSpecVersions = []string{ce.CloudEventsVersionV1, ce.CloudEventsVersionV03}

// IsSupportedSpecVersion reports whether v is a specversion we accept.
func IsSupportedSpecVersion(v string) bool {
	for _, s := range SupportedSpecVersions {
		if v == s {
			return true
		}
	}
	return false
}

// ValidAttributeName reports whether name is a legal CloudEvents attribute
// name: 1 to 20... characters of [a-z0-9] (the 20 is a SHOULD; we accept longer
// names), and not the reserved "data".
func ValidAttributeName(name string) bool {
	if name == "" || name == "data" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// Validate checks an event against the CloudEvents spec and returns a
// *ValidationError naming every bad attribute, or nil.
func Validate(e *ce.Event) error {
	var ve ValidationError
	if e.Context == nil {
		ve.Add("specversion", "missing")
		return ve.Err()
	}
	if err := e.Validate(); err != nil {
		var sv ce.ValidationError
		if errors.As(err, &sv) {
			for k, v := range sv {
				ve.Add(k, "%s", v.Error())
			}
		} else {
			ve.Add("", "%s", err.Error())
		}
	}
	for name, v := range e.Extensions() {
		if !ValidAttributeName(name) {
			ve.Add(name, "invalid extension name: names must be lower-case letters and digits only, and not %q", "data")
		}
		if s, ok := v.(string); ok {
			checkString(&ve, name, s)
		}
	}
	for _, a := range []struct{ name, v string }{{"id", e.ID()}, {"source", e.Source()}, {"type", e.Type()}, {"subject", e.Subject()}} {
		checkString(&ve, a.name, a.v)
	}
	return ve.Err()
}

// checkString enforces the CloudEvents String type: valid UTF-8 without
// control characters (U+0000–U+001F, U+007F–U+009F). Anything else would
// not survive the JSON format unchanged (and would change the dedup key).
func checkString(ve *ValidationError, name, s string) {
	if !utf8.ValidString(s) {
		ve.Add(name, "not valid UTF-8")
		return
	}
	for _, r := range s {
		if r < 0x20 || (r >= 0x7f && r <= 0x9f) {
			ve.Add(name, "contains the control character U+%04X", r)
			return
		}
	}
}

// checkMediaType checks that ct is an RFC 2046 media type: type "/" subtype,
// then parameters, and nothing around. mime.ParseMediaType alone also accepts a bare token
// ("application"), which no consumer can interpret.
func checkMediaType(ct string) error {
	if strings.TrimSpace(ct) != ct {
		// The HTTP binding would lose them: Content-Type is trimmed.
		return fmt.Errorf("%q has spaces around it", ct)
	}
	if simpleMediaType(ct) {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return err
	}
	if i := strings.IndexByte(mt, '/'); i <= 0 || i == len(mt)-1 || strings.Count(mt, "/") != 1 {
		return fmt.Errorf("%q is not type/subtype", mt)
	}
	return nil
}

// simpleMediaType reports whether ct is type/subtype of RFC 2045 token
// characters without parameters ("application/json"): a media type that
// mime.ParseMediaType accepts, without its allocations.
func simpleMediaType(ct string) bool {
	slash := -1
	for i := 0; i < len(ct); i++ {
		c := ct[i]
		switch {
		case c == '/':
			if slash >= 0 {
				return false
			}
			slash = i
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return slash > 0 && slash < len(ct)-1
}

// parseURIRef parses a source or dataschema as sdk-go does, and requires it
// to be written back as sent: sdk-go keeps a url.URL, not the text, and
// url.URL re-encodes what RFC 3986 does not allow ("/a b" becomes "/a%20b",
// "/café" "/caf%C3%A9"), so the event would change, and with its source
// its dedup key.
//
// The URL returned may be shared with other callers: read it or copy it,
// never change it. Sources repeat from one event to the next, and the
// parse and the check cost two allocations and most of a microsecond,
// so the first uriCacheMax short ones that pass are kept.
func parseURIRef(v string) (*url.URL, error) {
	if u, ok := uriCache.Load(v); ok {
		return u.(*url.URL), nil
	}
	u, err := url.Parse(v)
	if err != nil {
		return nil, err
	}
	if s := u.String(); s != v {
		return nil, fmt.Errorf("%q is not written as a URI (RFC 3986) would be, %q: percent-encode spaces, quotes, non-ASCII and the like", v, s)
	}
	if len(v) <= uriCacheMaxLen && uriCached.Load() < uriCacheMax {
		// Parsed again from a copy: u's fields are substrings of v,
		// which may be part of a whole request body.
		c := strings.Clone(v)
		if cu, err := url.Parse(c); err == nil {
			if _, loaded := uriCache.LoadOrStore(c, cu); !loaded {
				uriCached.Add(1)
			}
		}
	}
	return u, nil
}

// The cache of parseURIRef: text → *url.URL, at most uriCacheMax entries
// of at most uriCacheMaxLen bytes (about 0.5 MB at worst), never evicted:
// beyond it, sources are parsed every time, as before.
var (
	uriCache  sync.Map
	uriCached atomic.Int32
)

const (
	uriCacheMax    = 1024
	uriCacheMaxLen = 256
)

// parseTime parses a time attribute as sdk-go does, and requires that the
// canonical form sdk-go writes (UTC, RFC 3339) can be read again: a time
// that is in year 0000 or 9999 only in its own offset, say
// "0000-01-01T00:00:00+01:00", is written as year -1 and the stored event
// could no longer be read.
func parseTime(v string) (time.Time, error) {
	t, err := types.ParseTime(v)
	if err != nil {
		return t, err
	}
	if y := t.UTC().Year(); y < 0 || y > 9999 {
		return time.Time{}, fmt.Errorf("%q is outside years 0000 to 9999 in UTC", v)
	}
	return t, nil
}
