// Command eventbridge is the event router: see `eventbridge --help`.
//
// It is pkg/eventbridge's Main; a program that adds its own connectors
// builds the same command (see docs/connectors/custom.md).
package main

import "github.com/eventbridge-dev/eventbridge/pkg/eventbridge"

func main() { eventbridge.Main() }
