package filter

import (
	"fmt"
	"strings"

	"github.com/antlr/antlr4/runtime/Go/antlr"
	"github.com/cloudevents/sdk-go/sql/v2/gen"

	cesql "github.com/cloudevents/sdk-go/sql/v2"
	cesqlparser "github.com/cloudevents/sdk-go/sql/v2/parser"
)

// SQL is a compiled CESQL filter. It matches when the expression evaluates
// to boolean TRUE; an evaluation error or a non-boolean result is no match,
// as the Subscriptions API requires.
type SQL struct {
	expr cesql.Expression
	src  string
}

// CompileSQL parses a CESQL expression. Its error names the position.
func CompileSQL(src string) (*SQL, error) {
	f, err := compileSQL(src, "sql")
	if err != nil {
		return nil, err
	}
	return f, nil
}

func compileSQL(src, path string) (f *SQL, ferr *Error) {
	// sdk-go's parser panics on some incomplete expressions ("type = ").
	defer func() {
		if r := recover(); r != nil {
			f, ferr = nil, errorf(path, "invalid CESQL: incomplete expression %q", src)
		}
	}()
	// Check the syntax first with our own listeners: sdk-go's parser drops
	// the position and reason, and its lexer prints errors to stderr.
	if msgs := cesqlSyntax(src); len(msgs) > 0 {
		return nil, errorf(path, "invalid CESQL: %s", strings.Join(msgs, "; "))
	}
	expr, err := cesqlparser.Parse(src)
	if err != nil {
		return nil, errorf(path, "invalid CESQL: %s", strings.TrimSpace(err.Error()))
	}
	return &SQL{expr: expr, src: src}, nil
}

// cesqlSyntax returns the syntax errors of src, each with its column.
func cesqlSyntax(src string) []string {
	l := &syntaxListener{}
	var is antlr.CharStream = antlr.NewInputStream(src)
	is = cesqlparser.NewCaseChangingStream(is, true)
	lexer := gen.NewCESQLParserLexer(is)
	lexer.RemoveErrorListeners()
	lexer.AddErrorListener(l)
	p := gen.NewCESQLParserParser(antlr.NewCommonTokenStream(lexer, antlr.TokenDefaultChannel))
	p.RemoveErrorListeners()
	p.AddErrorListener(l)
	p.Cesql()
	return l.msgs
}

type syntaxListener struct {
	antlr.DefaultErrorListener
	msgs []string
}

func (l *syntaxListener) SyntaxError(_ antlr.Recognizer, _ interface{}, line, column int, msg string, _ antlr.RecognitionException) {
	l.msgs = append(l.msgs, fmt.Sprintf("column %d: %s", column+1, msg))
}

// Match implements Filter.
func (s *SQL) Match(in *Input) bool {
	v, err := s.expr.Evaluate(*in.Event)
	if err != nil {
		return false
	}
	b, ok := v.(bool)
	return ok && b
}

// Evaluate returns the raw CESQL result, for tests and tools.
func (s *SQL) Evaluate(in *Input) (any, error) { return s.expr.Evaluate(*in.Event) }

// String returns the source expression.
func (s *SQL) String() string { return s.src }

var _ Filter = (*SQL)(nil)
