package amqpbinding

import "reflect"

// stringKind reads named string types (go-amqp's Symbol, say) that do not
// implement fmt.Stringer.
func stringKind(v any) (string, bool) {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.String {
		return rv.String(), true
	}
	return "", false
}
