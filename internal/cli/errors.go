package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/eventbridge-dev/eventbridge/pkg/client"
)

// Exit codes.
const (
	codeOK     = 0
	codeFailed = 1 // the API refused, an operation failed, the bridge is unreachable
	codeUsage  = 2 // bad flags, arguments or files
)

// usageError marks err as the user's (exit code 2).
func usageError(err error) error {
	var ee *exitError
	if errors.As(err, &ee) {
		return err
	}
	return &exitError{code: codeUsage, err: err}
}

// usageErrorf is usageError(fmt.Errorf(...)).
func usageErrorf(format string, args ...any) error {
	return usageError(fmt.Errorf(format, args...))
}

// failed marks err as a failure of the API or an operation (exit code 1).
func failed(err error) error {
	var ee *exitError
	if err == nil || errors.As(err, &ee) {
		return err
	}
	return &exitError{code: codeFailed, err: err}
}

// usageArgs makes an argument check's error a usage error.
func usageArgs(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return usageError(fmt.Errorf("%w\nsee: %s --help", err, cmd.CommandPath()))
		}
		return nil
	}
}

// report prints err for people on w and returns the exit code.
func report(w io.Writer, err error) int {
	if err == nil {
		return codeOK
	}
	code := codeFailed
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
		if ee.err == nil || ee.err.Error() == "" {
			return code
		}
	}
	for i, line := range errorLines(err) {
		if i == 0 {
			fmt.Fprintln(w, "error:", line)
		} else {
			fmt.Fprintln(w, "  "+line)
		}
	}
	return code
}

// hintError is an error with the hint to print under it when the other
// side was not reached, in place of the API commands' hint.
type hintError struct {
	err  error
	hint string
}

func (e *hintError) Error() string { return e.err.Error() }
func (e *hintError) Unwrap() error { return e.err }

// withHint gives err, when it is a connection refused, the hint to print.
func withHint(err error, hint string) error {
	if err == nil || !errors.Is(err, syscall.ECONNREFUSED) {
		return err
	}
	code := codeFailed
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
	}
	return &exitError{code: code, err: &hintError{err: err, hint: hint}}
}

// errorLines renders an error: an API problem as its title and detail then
// one line per field error; other errors as they are.
func errorLines(err error) []string {
	var he *hintError
	if errors.As(err, &he) {
		return []string{he.Error(), he.hint}
	}
	var ae *client.Error
	if errors.As(err, &ae) {
		lines := ae.Lines()
		if ae.Status == 401 || ae.Status == 403 {
			lines = append(lines, "(set a token with --token, "+envToken+" or the config file "+configPath()+")")
		}
		return lines
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return []string{err.Error(), "(is a bridge running there? see --server, " + envServer + " or the config file " + configPath() + ")"}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return []string{err.Error(), "(the bridge did not answer in time; see --request-timeout)"}
	}
	return []string{err.Error()}
}

// asAPIError finds an API error in err's chain.
func asAPIError(err error) (*client.Error, bool) {
	var ae *client.Error
	ok := errors.As(err, &ae)
	return ae, ok
}
