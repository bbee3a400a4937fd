// Command eventbridge is the event router: see `eventbridge --help`.
package main

import (
	"os"

	"github.com/eventbridge-dev/eventbridge/internal/cli"
)

func main() {
	os.Exit(cli.Execute(os.Args[1:]))
}
