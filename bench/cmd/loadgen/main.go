// Command loadgen sends binary-mode CloudEvents over HTTP POST, either at a
// fixed rate on an open-loop schedule (latency counted from each event's
// intended send time, which is also its ce-time) or from N clients as fast
// as they can (saturation). It prints what it sent and what came back.
//
//	loadgen --url http://127.0.0.1:8090/ --mode fixed --rate 2000 --duration 10s
//	loadgen --url http://127.0.0.1:8090/ --mode saturation --concurrency 32 --json
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"time"

	"github.com/eventbridge-dev/eventbridge/bench/internal/loadgen"
)

func main() {
	url := flag.String("url", "", "URL to POST events to (required)")
	mode := flag.String("mode", "saturation", `"saturation" or "fixed"`)
	rate := flag.Float64("rate", 2000, "events/s in fixed mode")
	duration := flag.Duration("duration", 10*time.Second, "how long to send")
	concurrency := flag.Int("concurrency", 32, "clients in saturation mode")
	workers := flag.Int("workers", 64, "sending workers in fixed mode (open loop)")
	timeout := flag.Duration("timeout", 10*time.Second, "per-request timeout")
	asJSON := flag.Bool("json", false, "print the result as JSON")
	cpuProfile := flag.String("cpuprofile", "", "write the generator's own CPU profile to `FILE`")
	flag.Parse()
	if *url == "" || (*mode != "fixed" && *mode != "saturation") || *rate <= 0 {
		flag.Usage()
		os.Exit(2)
	}

	conns := *concurrency
	if *mode == "fixed" {
		conns = *workers
	}
	target := loadgen.NewTarget(*url, conns, *timeout)
	// Bound the run: the schedule, then time for the last requests.
	ctx, cancel := context.WithTimeout(context.Background(), *duration+*timeout+5*time.Second)
	defer cancel()

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "loadgen:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}

	res := loadgen.Run(ctx, loadgen.Plan{Mode: *mode, Rate: *rate, Duration: *duration, Concurrency: conns}, target.Send)
	res.URL = *url
	if *asJSON {
		_ = json.NewEncoder(os.Stdout).Encode(res)
		return
	}
	fmt.Printf("%s %s: sent %d, 2xx %d, other %d, errors %d in %.2fs: %.0f events/s (2xx %.0f/s)\n",
		res.Mode, res.URL, res.Sent, res.OK, res.Non2xx, res.Errors, res.ElapsedSec, res.AchievedRate, res.OKRate)
	fmt.Printf("latency from intended send (ms): p50 %.3f p90 %.3f p99 %.3f p99.9 %.3f max %.3f; max lateness %.3f ms\n",
		res.Latency.P50, res.Latency.P90, res.Latency.P99, res.Latency.P999, res.Latency.Max, res.MaxLateMS)
	if res.FirstError != "" {
		fmt.Printf("first error: %s\n", res.FirstError)
	}
}
