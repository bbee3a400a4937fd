// Package eventbridge is the entry point of the eventbridge command, for
// programs that build their own bridge binary with connectors of their
// own. Such a program's main package imports its connector packages (their
// init functions register them with pkg/connector) and calls Main:
//
//	package main
//
//	import (
//		_ "example.com/mybridge/filetarget" // registers type "file"
//
//		"github.com/eventbridge-dev/eventbridge/pkg/eventbridge"
//	)
//
//	func main() { eventbridge.Main() }
//
// The binary is the whole eventbridge command (serve, apply, send, ...)
// with every built-in connector, plus the program's own.
package eventbridge

import (
	"os"

	"github.com/eventbridge-dev/eventbridge/internal/cli"
)

// Main runs the eventbridge command with the process's arguments and exits
// with its status. It does not return.
func Main() {
	os.Exit(Run(os.Args[1:]))
}

// Run runs the eventbridge command with args (without the program name),
// as Main does, and returns the exit status instead of exiting.
func Run(args []string) int {
	return cli.Execute(args)
}
