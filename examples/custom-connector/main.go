// Command mybridge is eventbridge with two connectors of its own: the
// target "jsonl" and the source "heartbeat". It is the whole eventbridge
// command (serve, validate, send, ...), every built-in connector included.
package main

import (
	_ "example.com/mybridge/heartbeat" // registers source type "heartbeat"
	_ "example.com/mybridge/jsonl"     // registers target type "jsonl"

	"github.com/eventbridge-dev/eventbridge/pkg/eventbridge"
)

func main() { eventbridge.Main() }
