package event

import (
	ce "github.com/cloudevents/sdk-go/v2/event"
)

// extensions returns e's extensions as sdk-go holds them, without the copy
// that e.Extensions() makes on every call: a loop that called it once per
// extension cost time quadratic in their number. The map is e's own: read
// it, never write it.
func extensions(e *ce.Event) map[string]any {
	switch ec := e.Context.(type) {
	case *ce.EventContextV1:
		return ec.Extensions
	case *ce.EventContextV03:
		return ec.Extensions
	case nil:
		return nil
	}
	return e.Extensions()
}

// RangeExtensions calls f with the name and value of each extension of e,
// in no order, until f returns false. Unlike ranging over e.Extensions(),
// it copies nothing; f must not change e's extensions.
func RangeExtensions(e *ce.Event, f func(name string, v any) bool) {
	for k, v := range extensions(e) {
		if !f(k, v) {
			return
		}
	}
}

// Extension returns the value of e's extension name, without copying e's
// extensions as e.Extensions()[name] does.
func Extension(e *ce.Event, name string) (any, bool) {
	v, ok := extensions(e)[name]
	return v, ok
}

// ExtensionCount is the number of extensions of e.
func ExtensionCount(e *ce.Event) int { return len(extensions(e)) }
