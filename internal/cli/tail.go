package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/eventbridge-dev/eventbridge/pkg/client"
)

func newTail(c *conn, stdout, stderr io.Writer) *cobra.Command {
	var (
		q      client.StreamQuery
		output string
	)
	cmd := &cobra.Command{
		Use:   "tail",
		Short: "Print live events as the bridge takes them in, until Ctrl-C",
		Long: `Print the events the bridge takes in from now on, as they come, until Ctrl-C.
Each is a line (-o line: time, type, source, id, data) or its JSON form on one
line (-o json, for jq). If the connection drops, tail connects again.`,
		Example: `  eventbridge tail
  eventbridge tail --type com.example.order.created -o json | jq .data`,
		Args: usageArgs(cobra.NoArgs),
	}
	check := outputFlag(cmd, &output, "line", "json")
	f := cmd.Flags()
	f.StringVar(&q.Type, "type", "", "only events of this type")
	f.StringVar(&q.Source, "source", "", "only events with this source attribute")
	f.StringVar(&q.SourceName, "source-name", "", "only events taken in by this source resource")
	_ = cmd.RegisterFlagCompletionFunc("source-name", flagNames(c, client.KindSource))
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if err := check(); err != nil {
			return err
		}
		cl, err := c.client(cmd)
		if err != nil {
			return err
		}
		ctx, stop := interruptible(cmd.Context())
		defer stop()
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		emit := func(ev map[string]any) error {
			if output == "json" {
				return enc.Encode(ev)
			}
			_, err := fmt.Fprintln(stdout, eventLine(ev))
			return err
		}
		return tail(ctx, cl, q, emit, stderr)
	}
	return cmd
}

// tail streams until ctx ends, connecting again after a drop (not after
// a first failure, nor an API error).
func tail(ctx context.Context, cl *client.Client, q client.StreamQuery, emit func(map[string]any) error, stderr io.Writer) error {
	everConnected := false
	backoff := time.Second
	for {
		connected := false
		q.Connected = func() {
			connected, everConnected = true, true
			backoff = time.Second
			fmt.Fprintln(stderr, "streaming live events (Ctrl-C to stop)")
		}
		err := cl.Stream(ctx, &q, emit)
		_, apiErr := asAPIError(err)
		switch {
		case ctx.Err() != nil:
			return nil
		case apiErr || !everConnected:
			return failed(err)
		}
		if !connected {
			backoff = min(backoff*2, 30*time.Second)
		}
		fmt.Fprintf(stderr, "stream lost (%v); connecting again in %s\n", err, backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
	}
}

// eventLine renders an event on one line: time, type, source, id, data.
func eventLine(ev map[string]any) string {
	t := str(ev["time"])
	if t == "" {
		t = time.Now().UTC().Format(time.RFC3339)
	}
	data := ""
	switch {
	case ev["data"] != nil:
		data = compactJSON(ev["data"])
	case ev["data_base64"] != nil:
		data = "(binary data)"
	}
	return fmt.Sprintf("%s  %s  %s  %s  %s", t, str(ev["type"]), str(ev["source"]), str(ev["id"]), truncate(data, 200))
}
