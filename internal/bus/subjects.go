package bus

import (
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
