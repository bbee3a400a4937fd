package event

import (
	"errors"
	"fmt"

	ce "github.com/cloudevents/sdk-go/v2/event"
)

// Errors of Limits, wrapped in a *LimitError; check them with errors.Is.
var (
	// ErrTooManyEntries: a batch has more entries than MaxBatchEntries.
	ErrTooManyEntries = errors.New("too many entries in the batch")
	// ErrTooManyExtensions: an event has more extensions than MaxExtensions.
	ErrTooManyExtensions = errors.New("too many extensions")
	// ErrExtensionsTooLarge: the names and values of an event's extensions
	// add up to more than MaxExtensionBytes.
	ErrExtensionsTooLarge = errors.New("extensions too large")
)

// Default limits of an ingest path.
const (
	DefaultMaxExtensions     = 100
	DefaultMaxExtensionBytes = 64 << 10
)

// Limits bound what one request may make the bridge hold, so that its cost
// stays in proportion to its size. A zero field sets no limit. Sources check
// them at ingest, before the work a limit is there to avoid.
type Limits struct {
	// MaxBatchEntries is the most entries of a batch.
	MaxBatchEntries int
	// MaxExtensions is the most extension attributes of one event.
	MaxExtensions int
	// MaxExtensionBytes is the most bytes of the names and (string) values
	// of one event's extensions together.
	MaxExtensionBytes int
}

// LimitError says which limit a request is over. Entry is the batch entry
// (-1 when not in a batch).
type LimitError struct {
	Err   error // one of the Err… sentinels above
	Entry int
	Limit int
	// Got is what the request has, when it is known: a batch is refused
	// at the first entry over the limit, without counting the others.
	Got int
}

func (e *LimitError) Error() string {
	where := ""
	if e.Entry >= 0 {
		where = fmt.Sprintf("entry %d: ", e.Entry)
	}
	switch {
	case errors.Is(e.Err, ErrTooManyEntries):
		return fmt.Sprintf("a batch may hold %d events, this one holds more", e.Limit)
	case errors.Is(e.Err, ErrTooManyExtensions):
		return fmt.Sprintf("%san event may have %d extensions, this one has %d", where, e.Limit, e.Got)
	default:
		return fmt.Sprintf("%sthe extensions of an event may take %d bytes (names and values), these take %d or more", where, e.Limit, e.Got)
	}
}

func (e *LimitError) Unwrap() error { return e.Err }

// CheckExtensions checks the number and size of extensions given as
// names and their canonical string values (binary-mode headers, before
// an event is built from them).
func (l Limits) CheckExtensions(exts map[string]string) error {
	return l.checkExt(len(exts), func(yield func(int) bool) {
		for k, v := range exts {
			if !yield(len(k) + len(v)) {
				return
			}
		}
	}, -1)
}

// CheckEvent checks the number and size of the extensions of a built
// event, by the names and canonical string values of its extensions: for
// sources that get events whole (a webhook's handler, a broker's binding).
// Its cost is linear in the number of extensions; a source whose input is
// bounded (a body, a message) can afford to build the event first.
func (l Limits) CheckEvent(e *ce.Event) error {
	ext := extensions(e)
	return l.checkExt(len(ext), func(yield func(int) bool) {
		for k, v := range ext {
			s, _ := formatExt(v)
			if !yield(len(k) + len(s)) {
				return
			}
		}
	}, -1)
}

// checkExt checks n extensions whose sizes sizes yields.
func (l Limits) checkExt(n int, sizes func(func(int) bool), entry int) error {
	if l.MaxExtensions > 0 && n > l.MaxExtensions {
		return &LimitError{Err: ErrTooManyExtensions, Entry: entry, Limit: l.MaxExtensions, Got: n}
	}
	if l.MaxExtensionBytes <= 0 {
		return nil
	}
	total := 0
	var err error
	sizes(func(size int) bool {
		total += size
		if total > l.MaxExtensionBytes {
			err = &LimitError{Err: ErrExtensionsTooLarge, Entry: entry, Limit: l.MaxExtensionBytes, Got: total}
			return false
		}
		return true
	})
	return err
}

// ContextAttributeCount is the most context attributes (not extensions)
// an event can have under binary-mode names: specversion, id, source, type,
// subject, time, dataschema or schemaurl, datacontenttype and 0.3's
// datacontentencoding.
const ContextAttributeCount = 10

// CheckExtensionAttrs is CheckExtensions(ExtensionAttrs(attrs)) without
// the copy: the extensions among binary-mode attributes are counted and
// measured where they are.
func (l Limits) CheckExtensionAttrs(attrs map[string]string) error {
	n := 0
	for k := range attrs {
		if !knownMember(k) {
			n++
		}
	}
	return l.checkExt(n, func(yield func(int) bool) {
		for k, v := range attrs {
			if !knownMember(k) && !yield(len(k)+len(v)) {
				return
			}
		}
	}, -1)
}

// ExtensionAttrs returns the extensions among binary-mode attributes
// (name → canonical string): those that are no context attribute.
func ExtensionAttrs(attrs map[string]string) map[string]string {
	out := make(map[string]string, len(attrs))
	for k, v := range attrs {
		if !knownMember(k) {
			out[k] = v
		}
	}
	return out
}
