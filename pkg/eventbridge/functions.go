package eventbridge

import "github.com/eventbridge-dev/eventbridge/internal/filter"

// SQLFunction is a user-defined CESQL function, usable in rules' `sql`
// filters once registered with RegisterSQLFunction.
type SQLFunction = filter.SQLFunction

// SQLType is the type of a CESQL function argument or result.
type SQLType = filter.SQLType

// CESQL types. Integers are int32 in Go, strings string, booleans bool.
const (
	SQLString  = filter.SQLString
	SQLInteger = filter.SQLInteger
	SQLBoolean = filter.SQLBoolean
	SQLAny     = filter.SQLAny
)

// RegisterSQLFunction adds a user-defined CESQL function (the CESQL spec's
// extension point). Call it before Main or Run, from main or an init
// function: the function table is process-wide and read without a lock
// while events are filtered. It refuses a name and arity already taken,
// built-in functions included. Functions are Go code, so the configuration
// file cannot define them.
//
//	eventbridge.RegisterSQLFunction(eventbridge.SQLFunction{
//		Name:    "HASPREFIX",
//		Args:    []eventbridge.SQLType{eventbridge.SQLString, eventbridge.SQLString},
//		Returns: eventbridge.SQLBoolean,
//		Run: func(_ cloudevents.Event, a []any) (any, error) {
//			return strings.HasPrefix(a[0].(string), a[1].(string)), nil
//		},
//	})
func RegisterSQLFunction(f SQLFunction) error { return filter.RegisterFunction(f) }
