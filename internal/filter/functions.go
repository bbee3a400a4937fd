package filter

import (
	"fmt"
	"regexp"
	"strings"
	"sync"

	cesql "github.com/cloudevents/sdk-go/sql/v2"
	cesqlfn "github.com/cloudevents/sdk-go/sql/v2/function"
	cesqlruntime "github.com/cloudevents/sdk-go/sql/v2/runtime"
	ce "github.com/cloudevents/sdk-go/v2/event"
)

// SQLType is the type of a CESQL function argument or result.
type SQLType = cesql.Type

// CESQL types for SQLFunction. Integer values are passed and returned as
// int32, strings as string, booleans as bool.
const (
	SQLString  SQLType = cesql.StringType
	SQLInteger SQLType = cesql.IntegerType
	SQLBoolean SQLType = cesql.BooleanType
	SQLAny     SQLType = cesql.AnyType
)

// SQLFunction is a user-defined CESQL function (the CESQL spec's extension
// point). Arguments are cast to Args (and to Variadic for the rest) before
// Run is called; Run's result must be of type Returns.
type SQLFunction struct {
	Name     string    // identifier, case-insensitive (stored upper-case)
	Args     []SQLType // fixed arguments
	Variadic *SQLType  // type of any further arguments; nil for none
	Returns  SQLType
	Run      func(e ce.Event, args []any) (any, error)
}

var (
	fnMu       sync.Mutex
	fnNameRule = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)
)

// RegisterFunction adds a user-defined CESQL function, usable in every
// rule's `sql` filter afterwards. Functions live in one process-wide table
// (sdk-go's CESQL runtime), so register them before the bridge starts, for
// example in an init function or at the top of main: the table is read
// without a lock while events are filtered. It refuses a name or arity
// that is already taken, including the built-in functions.
func RegisterFunction(f SQLFunction) error {
	name := strings.ToUpper(f.Name)
	if !fnNameRule.MatchString(name) {
		return fmt.Errorf("cesql function name %q: want letters, digits and _, starting with a letter", f.Name)
	}
	if f.Run == nil {
		return fmt.Errorf("cesql function %s: Run is nil", name)
	}
	args := append([]SQLType{}, f.Args...)
	var variadic *SQLType
	if f.Variadic != nil {
		variadic = cesql.TypePtr(*f.Variadic)
	}
	fnMu.Lock()
	defer fnMu.Unlock()
	if err := cesqlruntime.AddFunction(cesqlfn.NewFunction(name, args, variadic, f.Returns, f.Run)); err != nil {
		return fmt.Errorf("cesql function %s/%d: %w", name, len(args), err)
	}
	return nil
}
