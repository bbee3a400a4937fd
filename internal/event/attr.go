package event

import (
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/cloudevents/sdk-go/v2/types"
)

// Attr returns the canonical string encoding of a context attribute or an
// extension of e, and whether e has it set. Names are case-sensitive, as in
// the spec.
func Attr(e *ce.Event, name string) (string, bool) {
	switch name {
	case "specversion":
		return e.SpecVersion(), true
	case "id":
		return e.ID(), true
	case "source":
		return e.Source(), true
	case "type":
		return e.Type(), true
	case "subject":
		v := e.Subject()
		return v, v != ""
	case "datacontenttype":
		v := e.DataContentType()
		return v, v != ""
	case "dataschema":
		v := e.DataSchema()
		return v, v != ""
	case "time":
		t := e.Time()
		if t.IsZero() {
			return "", false
		}
		return t.UTC().Format(time.RFC3339Nano), true
	}
	v, ok := Extension(e, name)
	if !ok {
		return "", false
	}
	return formatExt(v)
}

// formatExt is the canonical string of an extension value.
func formatExt(v any) (string, bool) {
	// Format, not ToString: an extension may hold any CloudEvents type
	// (Integer, Boolean, Binary, URI, Timestamp), each with a canonical
	// string; ToString accepts strings only.
	s, err := types.Format(v)
	if err != nil {
		return "", false
	}
	return s, true
}
