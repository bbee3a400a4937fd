package bus

import (
	"fmt"
	"strings"
)

// Stream names and subject prefixes (docs/architecture.md, "Streams and
// buckets"): EVENTS is the archive, WORK the router's queue beside it.
const (
	StreamEvents = "EVENTS"
	StreamWork   = "WORK"
	StreamRetry  = "RETRY"
	StreamDLQ    = "DLQ"
)

// Headers the bridge sets on bus messages, besides Nats-Msg-Id.
const (
	HdrContentType = "Content-Type"
	HdrSource      = "Eb-Source"      // the source resource that ingested the event
	HdrRule        = "Eb-Rule"        // RETRY and DLQ: the rule
	HdrTarget      = "Eb-Target"      // RETRY and DLQ: the target
	HdrAttempts    = "Eb-Attempts"    // attempts made so far
	HdrFirstTry    = "Eb-First-Try"   // RFC 3339 time of the first attempt (for max_age)
	HdrNotBefore   = "Eb-Not-Before"  // RETRY: RFC 3339 time the next attempt is due
	HdrLastStatus  = "Eb-Last-Status" // protocol status of the last attempt (e.g. 503)
	HdrLastError   = "Eb-Last-Error"  // error text of the last attempt
	HdrReason      = "Eb-Reason"      // DLQ: why it is dead (exhausted, permanent, expired, transform)
	HdrIngested    = "Eb-Ingested"    // RFC 3339 time the event was first stored
	HdrKey         = "Eb-Key"         // EVENTS, RETRY and DLQ: the event's dedup key (see delivery.Task.Key)
)

// ContentTypeEvent is the content type of every message body: a CloudEvent
// in the JSON format.
const ContentTypeEvent = "application/cloudevents+json"

// EventSubject is the EVENTS subject of an event: events.<source>.<type>,
// where the type is escaped into one subject token.
func EventSubject(source, typ string) string {
	return "events." + source + "." + EscapeToken(typ)
}

// WorkSubject is the WORK subject of an event: work.<source>.<type>, the
// copy the router consumes.
func WorkSubject(source, typ string) string {
	return "work." + source + "." + EscapeToken(typ)
}

// WorkSubjectOf turns an EVENTS subject into the WORK subject of the same
// event.
func WorkSubjectOf(eventSubject string) string {
	return "work." + strings.TrimPrefix(eventSubject, "events.")
}

// RetrySubject is the RETRY subject of a (rule, target) route.
func RetrySubject(rule, target string) string { return "retry." + rule + "." + target }

// DLQSubject is the DLQ subject of a (rule, target) route.
func DLQSubject(rule, target string) string { return "dlq." + rule + "." + target }

// AllEvents is the filter of every EVENTS subject.
const AllEvents = "events.>"

// AllDeadLetters is the filter of every DLQ subject.
const AllDeadLetters = "dlq.>"

// SourceEvents is the filter of the EVENTS subjects of one source resource.
func SourceEvents(source string) string { return "events." + source + ".>" }

// EventFilter is the filter of the EVENTS subjects of a source resource
// and an event type; an empty source or type matches any.
func EventFilter(source, typ string) string {
	if source == "" && typ == "" {
		return AllEvents
	}
	src, t := "*", "*"
	if source != "" {
		src = source
	}
	if typ != "" {
		t = EscapeToken(typ)
	}
	return "events." + src + "." + t
}

// DLQFilter is the filter of the DLQ subjects of a rule, or of one of its
// targets when target is not empty.
func DLQFilter(rule, target string) string {
	if target != "" {
		return DLQSubject(rule, target)
	}
	return "dlq." + rule + ".>"
}

// IsDLQSubjectOf tells whether subject is a DLQ subject of rule.
func IsDLQSubjectOf(subject, rule string) bool {
	return strings.HasPrefix(subject, "dlq."+rule+".")
}

// EscapeToken turns s into one NATS subject token: '.', '*', '>', '%',
// whitespace, control and non-ASCII bytes are percent-encoded. It is
// reversible with UnescapeToken.
func EscapeToken(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if needsEscape(s[i]) {
			clean = false
			break
		}
	}
	if clean && s != "" {
		return s
	}
	if s == "" {
		return "%00"
	}
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if needsEscape(c) {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

func needsEscape(c byte) bool {
	return c <= ' ' || c >= 0x7f || c == '.' || c == '*' || c == '>' || c == '%'
}

// UnescapeToken reverses EscapeToken.
func UnescapeToken(s string) string {
	if s == "%00" {
		return ""
	}
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return 0
}

// names are the names the bus gives its streams, subjects and buckets on
// the server, for a prefix (bus.prefix). The rest of the bridge, and this
// package's API, speak the logical names (EVENTS, events.<source>.<type>,
// config); the bus turns them into the server's names at its door, so
// that deployments with different prefixes share a NATS account without
// touching each other's streams, buckets or dead letters. Consumers live
// inside streams, so theirs need no prefix. The empty prefix gives the
// logical names themselves (the names of every release before bus.prefix).
type names struct {
	prefix string // "" or the prefix
	sp     string // prefix + "." (subjects) or ""
	np     string // prefix + "_" (streams and buckets) or ""
}

func newNames(prefix string) names {
	if prefix == "" {
		return names{}
	}
	return names{prefix: prefix, sp: prefix + ".", np: prefix + "_"}
}

// stream is the server's name of the stream named logical.
func (n names) stream(logical string) string { return n.np + logical }

// bucket is the server's name of the KV bucket named logical.
func (n names) bucket(logical string) string { return n.np + logical }

// subject is the server's subject (or filter) of logical.
func (n names) subject(logical string) string { return n.sp + logical }

// subjects maps subject over filters.
func (n names) subjects(filters []string) []string {
	if n.sp == "" {
		return filters
	}
	out := make([]string, len(filters))
	for i, f := range filters {
		out[i] = n.sp + f
	}
	return out
}

// logical is the logical subject of a server's subject.
func (n names) logical(subject string) string { return strings.TrimPrefix(subject, n.sp) }

// logicalCounts renames the keys of a stream's per-subject counts to
// their logical subjects.
func (n names) logicalCounts(m map[string]uint64) map[string]uint64 {
	if n.sp == "" || len(m) == 0 {
		return m
	}
	out := make(map[string]uint64, len(m))
	for s, c := range m {
		out[n.logical(s)] = c
	}
	return out
}

// workSubjectOf is WorkSubjectOf on the server's subjects.
func (n names) workSubjectOf(eventSubject string) string {
	if n.sp == "" {
		return WorkSubjectOf(eventSubject)
	}
	return n.sp + "work." + strings.TrimPrefix(eventSubject, n.sp+"events.")
}

// reservedPrefixes are the first tokens of the bridge's own subjects: a
// prefix equal to one would make its subjects overlap another
// deployment's ("kv": its streams would be named like KV buckets' streams).
var reservedPrefixes = []string{"events", "work", "retry", "dlq", "eventbridge", "kv"}

// ValidPrefix reports why p cannot be a bus.prefix (nil when it can): it
// is one NATS subject token and part of stream and bucket names, so
// letters, digits, '-' and '_', starting with a letter or digit, at most
// 32 bytes, and not one of the bridge's own first tokens.
func ValidPrefix(p string) error {
	if p == "" {
		return nil
	}
	if len(p) > 32 {
		return fmt.Errorf("must be at most 32 characters")
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || (i > 0 && (c == '-' || c == '_'))
		if !ok {
			return fmt.Errorf("must be letters, digits, '-' and '_', starting with a letter or digit")
		}
	}
	for _, r := range reservedPrefixes {
		if strings.EqualFold(p, r) {
			return fmt.Errorf("%q is reserved (a subject of the bridge starts with it)", p)
		}
	}
	return nil
}
