// Command forwarder is the benchmark's baseline middlebox: a plain net/http
// server that forwards every POST on --path synchronously to --target and
// answers with the target's status. GET /readyz answers 200; --pprof mounts
// /debug/pprof/.
//
//	forwarder --listen 127.0.0.1:8091 --target http://127.0.0.1:8090/
package main

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/eventbridge-dev/eventbridge/bench/internal/forward"
	"github.com/eventbridge-dev/eventbridge/bench/internal/httpclient"
	"github.com/eventbridge-dev/eventbridge/bench/internal/serve"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8091", "address to listen on")
	target := flag.String("target", "http://127.0.0.1:8090/", "URL to forward to")
	path := flag.String("path", "/", "path that accepts events")
	conns := flag.Int("conns", 256, "idle connections kept to the target")
	withPprof := flag.Bool("pprof", false, "serve /debug/pprof/")
	flag.Parse()

	mux := http.NewServeMux()
	fwd := &forward.Forwarder{Target: *target, Client: httpclient.New(*conns, 30*time.Second)}
	mux.Handle("POST "+*path, fwd)
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
	})
	if *withPprof {
		serve.MountPprof(mux)
	}
	if err := serve.Run("forwarder", *listen, mux); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
