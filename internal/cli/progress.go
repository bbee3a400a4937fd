package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/eventbridge-dev/eventbridge/pkg/client"
)

// counterOrder is the order progress counters are shown in.
var counterOrder = map[string][]string{
	client.OpReplay:  {"scanned", "matched", "delivered", "retrying", "dead_lettered", "failed"},
	client.OpRedrive: {"matched", "done", "failed"},
}

// counters renders an operation's progress as "k=v k=v", in a stable order.
func counters(op *client.Operation) string {
	order := slices.Clone(counterOrder[op.Kind])
	for _, k := range slices.Sorted(maps.Keys(op.Progress)) {
		if !slices.Contains(order, k) {
			order = append(order, k)
		}
	}
	parts := make([]string, 0, len(order))
	for _, k := range order {
		parts = append(parts, fmt.Sprintf("%s=%d", k, op.Progress[k]))
	}
	return strings.Join(parts, " ")
}

// settled counts what an operation has finished with, of what it matched.
func settled(op *client.Operation) int64 {
	p := op.Progress
	if op.Kind == client.OpRedrive {
		return p["done"] + p["failed"]
	}
	return p["delivered"] + p["dead_lettered"] + p["failed"]
}

// progressView shows an operation's progress while it runs.
type progressView interface {
	update(op *client.Operation)
	// finish ends the display (the summary is printed after it).
	finish(op *client.Operation)
}

// newProgressView returns a progress bar when w is a terminal, else a
// writer of progress lines.
func newProgressView(w io.Writer) progressView {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return &barView{w: w}
	}
	return &lineView{w: w}
}

// barView draws a bar: what has settled of what matched so far.
type barView struct {
	w   io.Writer
	bar *progressbar.ProgressBar
}

func (v *barView) update(op *client.Operation) {
	total := max(op.Progress["matched"], 1)
	if v.bar == nil {
		v.bar = progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(v.w),
			progressbar.OptionShowCount(),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionSetPredictTime(false),
			progressbar.OptionSetElapsedTime(true),
		)
	}
	v.bar.Describe(op.Kind + " " + counters(op))
	if total != v.bar.GetMax64() {
		v.bar.ChangeMax64(total)
	}
	done := min(settled(op), total)
	if !op.Done() {
		// A full bar is a finished one: it would draw no more. More may
		// match yet, so it stays one short until the end.
		done = min(done, total-1)
	}
	_ = v.bar.Set64(done)
}

func (v *barView) finish(op *client.Operation) {
	if v.bar == nil {
		return
	}
	v.update(op)
	if op.State == client.StateSucceeded {
		_ = v.bar.Finish()
	} else {
		_ = v.bar.Exit()
	}
	fmt.Fprintln(v.w)
}

// lineView prints a line when the progress changes, at most every second,
// and at least every 10 seconds.
type lineView struct {
	w        io.Writer
	last     string
	lastTime time.Time
}

func (v *lineView) update(op *client.Operation) {
	if op.Done() {
		return
	}
	line := counters(op)
	since := time.Since(v.lastTime)
	if v.lastTime.IsZero() || (line != v.last && since >= time.Second) || since >= 10*time.Second {
		fmt.Fprintf(v.w, "%s %s: %s: %s\n", op.Kind, op.ID, op.State, line)
		v.last, v.lastTime = line, time.Now()
	}
}

func (v *lineView) finish(*client.Operation) {}

// interruptible returns a context that ends on SIGINT or SIGTERM.
func interruptible(ctx context.Context) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
}

// codeInterrupted is the exit code after Ctrl-C (128 + SIGINT).
const codeInterrupted = 130

// waitOp follows an operation to its end with a progress view on stdout,
// then prints a summary line. Ctrl-C stops following, not the operation.
func waitOp(ctx context.Context, cl *client.Client, op *client.Operation, interval time.Duration, stdout, stderr io.Writer) (*client.Operation, error) {
	ctx, stop := interruptible(ctx)
	defer stop()
	view := newProgressView(stdout)
	final, err := cl.Wait(ctx, op, &client.WaitOptions{Interval: interval, Progress: view.update})
	if ctx.Err() != nil && !final.Done() {
		view.finish(final)
		hint := ""
		if op.Kind == client.OpReplay {
			hint = fmt.Sprintf("; eventbridge replay cancel %s stops it", op.ID)
		}
		fmt.Fprintf(stderr, "stopped following %s %s: it goes on in the bridge%s\n", op.Kind, op.ID, hint)
		return final, &exitError{code: codeInterrupted}
	}
	if err != nil && !errors.Is(err, client.ErrOperationFailed) && !errors.Is(err, client.ErrOperationCancelled) {
		view.finish(final)
		return final, failed(err)
	}
	view.finish(final)
	took := ""
	if final.Finished != nil {
		took = " in " + final.Finished.Sub(final.Started).Round(time.Millisecond).String()
	}
	fmt.Fprintf(stdout, "%s %s %s%s: %s\n", final.Kind, final.ID, final.State, took, counters(final))
	if err != nil {
		return final, failed(err)
	}
	return final, nil
}
