package eventbridge

import (
	cesql "github.com/cloudevents/sdk-go/sql/v2"
	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventbridge-dev/eventbridge/internal/filter"
)

// SQLFunction is a user-defined CESQL function, usable in rules' `sql`
// filters once registered with RegisterSQLFunction. Arguments are cast to
// Args (and to Variadic for the rest) before Run is called; Run's result
// must be of type Returns.
type SQLFunction struct {
	Name     string    // identifier, case-insensitive (stored upper-case)
	Args     []SQLType // fixed arguments
	Variadic *SQLType  // type of any further arguments; nil for none
	Returns  SQLType
	Run      func(e ce.Event, args []any) (any, error)
}

// SQLType is the type of a CESQL function argument or result (sdk-go's
// CESQL type).
type SQLType = cesql.Type

// CESQL types. Integers are int32 in Go, strings string, booleans bool.
const (
	SQLString  SQLType = cesql.StringType
	SQLInteger SQLType = cesql.IntegerType
	SQLBoolean SQLType = cesql.BooleanType
	SQLAny     SQLType = cesql.AnyType
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
func RegisterSQLFunction(f SQLFunction) error {
	return filter.RegisterFunction(filter.SQLFunction{
		Name: f.Name, Args: f.Args, Variadic: f.Variadic, Returns: f.Returns, Run: f.Run,
	})
}
