// Command sink is the benchmark's receiving end: it answers 204 to every
// CloudEvent POSTed to it and records end-to-end latency (arrival minus the
// event's time), counts and duplicate ids. GET /stats reports them as JSON,
// POST /reset clears them.
//
//	sink --listen 127.0.0.1:8090
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/eventbridge-dev/eventbridge/bench/internal/serve"
	"github.com/eventbridge-dev/eventbridge/bench/internal/sink"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8090", "address to listen on")
	flag.Parse()
	if err := serve.Run("sink", *listen, sink.New().Handler()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
