package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/eventbridge-dev/eventbridge/pkg/client"
)

func newLogs(c *conn, stdout io.Writer) *cobra.Command {
	var (
		q      client.LogQuery
		output string
	)
	cmd := &cobra.Command{
		Use:   "logs",
		Short: "Print the running bridge's own log lines (-f: follow them)",
		Long: `Print the log lines of a running bridge, oldest first: the last 1000 lines it
keeps in memory (those it logs at the levels "GET /v1/loggers" shows), then,
with -f, new lines as they come until Ctrl-C. Each is a line (-o line: time,
level, component, message, attributes) or slog's JSON object (-o json, for jq).
A follower too slow to keep up loses lines (the bridge never waits for it);
a "log lines dropped" line says how many.`,
		Example: `  eventbridge logs --level warn
  eventbridge logs -f --component source/ --tail 20
  eventbridge logs --since 10m -o json | jq .msg`,
		Args: usageArgs(cobra.NoArgs),
	}
	check := outputFlag(cmd, &output, "line", "json")
	f := cmd.Flags()
	f.StringVar(&q.Level, "level", "debug", "the lowest level shown: debug, info, warn or error")
	f.StringVar(&q.Component, "component", "", `only this component ("router"), or a prefix ending in "/" ("source/")`)
	f.StringVar(&q.Since, "since", "", "only lines newer than this: a duration (10m) or an RFC 3339 time")
	f.IntVar(&q.Tail, "tail", -1, "only the last N lines kept (-1: all)")
	f.BoolVarP(&q.Follow, "follow", "f", false, "go on with new lines until Ctrl-C")
	_ = cmd.RegisterFlagCompletionFunc("level", cobra.FixedCompletions([]string{"debug", "info", "warn", "error"}, cobra.ShellCompDirectiveNoFileComp))
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if err := check(); err != nil {
			return err
		}
		var lvl slog.Level
		if err := lvl.UnmarshalText([]byte(q.Level)); err != nil {
			return usageErrorf("--level: %q is not debug, info, warn or error", q.Level)
		}
		cl, err := c.client(cmd)
		if err != nil {
			return err
		}
		ctx, stop := interruptible(cmd.Context())
		defer stop()
		err = cl.Logs(ctx, q, func(line json.RawMessage) error {
			if output == "json" {
				_, err := fmt.Fprintf(stdout, "%s\n", line)
				return err
			}
			_, err := fmt.Fprintln(stdout, logLine(line))
			return err
		})
		if ctx.Err() != nil {
			return nil
		}
		return failed(err)
	}
	return cmd
}

// logLine renders a slog JSON object on one line: time, level, component,
// message, then the other attributes (key=value, sorted).
func logLine(raw json.RawMessage) string {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return string(raw)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s  %-5s", str(m["time"]), str(m["level"]))
	if c := str(m["component"]); c != "" {
		fmt.Fprintf(&b, "  [%s]", c)
	}
	fmt.Fprintf(&b, "  %s", str(m["msg"]))
	keys := make([]string, 0, len(m))
	for k := range m {
		switch k {
		case "time", "level", "component", "msg", "instance":
		default:
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := m[k]
		if s, ok := v.(string); ok {
			if strings.ContainsAny(s, " \t\"=") {
				v = fmt.Sprintf("%q", s)
			}
		} else {
			v = compactJSON(v)
		}
		fmt.Fprintf(&b, "  %s=%v", k, v)
	}
	return b.String()
}
