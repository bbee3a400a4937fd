package cli

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/eventbridge-dev/eventbridge/pkg/client"
)

// defaultPoll is how often a command that follows an operation asks for
// its progress.
const defaultPoll = 500 * time.Millisecond

func newReplay(c *conn, stdout, stderr io.Writer) *cobra.Command {
	var (
		rule, from, to, target string
		detach                 bool
		interval               time.Duration
	)
	cmd := &cobra.Command{
		Use:   "replay --rule RULE --from TIME [--to TIME] [--target TARGET]",
		Short: "Deliver archived events through a rule again, with progress",
		Long: `Replay the archive: every event the bridge stored between --from and --to
(default now) goes through the rule's filter and transform again and is
delivered to its targets (or to --target only), with the extension
replayed=true. The command follows the replay with a progress bar (progress
lines when stdout is not a terminal) and prints a summary; --detach prints
the replay's id and returns at once. Ctrl-C stops following, not the replay.

TIME is RFC 3339 (2025-06-01T12:00:00Z), a date (2025-06-01, UTC) or a
duration meaning that long ago (90m, 24h).
The exit status is 1 if the replay failed or was cancelled.`,
		Example: `  eventbridge replay --rule orders-to-audit --from 2h
  eventbridge replay --rule orders-to-audit --from 2025-06-01T00:00:00Z --to 2025-06-02T00:00:00Z --target audit
  eventbridge replay --rule orders-to-audit --from 24h --detach`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if rule == "" || from == "" {
				return usageErrorf("--rule and --from are required\nsee: %s --help", cmd.CommandPath())
			}
			now := time.Now()
			req := client.ReplayRequest{Rule: rule, Target: target}
			var err error
			if req.From, err = parseTime(from, now); err != nil {
				return usageErrorf("--from: %v", err)
			}
			if to != "" {
				if req.To, err = parseTime(to, now); err != nil {
					return usageErrorf("--to: %v", err)
				}
			}
			cl, err := c.client(cmd)
			if err != nil {
				return err
			}
			op, err := cl.StartReplay(cmd.Context(), req)
			if err != nil {
				return failed(err)
			}
			if detach {
				fmt.Fprintln(stdout, op.ID)
				return nil
			}
			_, err = waitOp(cmd.Context(), cl, op, interval, stdout, stderr)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&rule, "rule", "", "the rule to replay through (required)")
	f.StringVar(&from, "from", "", "replay events stored from this time (required)")
	f.StringVar(&to, "to", "", "replay events stored until this time (default now)")
	f.StringVar(&target, "target", "", "deliver to this target of the rule only")
	f.BoolVar(&detach, "detach", false, "print the replay's id and return")
	addPollFlag(cmd, &interval)
	_ = cmd.RegisterFlagCompletionFunc("rule", flagNames(c, client.KindRule))
	_ = cmd.RegisterFlagCompletionFunc("target", flagNames(c, client.KindTarget))
	cmd.AddCommand(newOpList(c, stdout, client.OpReplay), newOpGet(c, stdout, stderr, client.OpReplay), newReplayCancel(c, stdout))
	return cmd
}

func addPollFlag(cmd *cobra.Command, dst *time.Duration) {
	cmd.Flags().DurationVar(dst, "poll-interval", defaultPoll, "how often to ask for progress")
	_ = cmd.Flags().MarkHidden("poll-interval")
}

// flagNames completes a flag with names of a kind.
func flagNames(c *conn, kind client.Kind) cobra.CompletionFunc {
	return func(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		return completeNames(cmd, c, kind, toComplete, nil), cobra.ShellCompDirectiveNoFileComp
	}
}

func newOpList(c *conn, stdout io.Writer, kind string) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the " + kind + "s the bridge remembers",
		Long: "List the " + kind + `s the bridge remembers: the running ones and the last
finished ones. They live in the memory of the bridge process that runs them.`,
		Args: usageArgs(cobra.NoArgs),
	}
	check := outputFlag(cmd, &output, "table", "json", "yaml")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if err := check(); err != nil {
			return err
		}
		cl, err := c.client(cmd)
		if err != nil {
			return err
		}
		var ops []*client.Operation
		if kind == client.OpReplay {
			ops, err = cl.Replays(cmd.Context())
		} else {
			ops, err = cl.Redrives(cmd.Context())
		}
		if err != nil {
			return failed(err)
		}
		if output != "table" {
			return printAs(stdout, output, map[string]any{"items": nonNil(ops)})
		}
		if len(ops) == 0 {
			fmt.Fprintf(stdout, "No %ss.\n", kind)
			return nil
		}
		t := newTable(stdout, "ID", "STATE", "RULE", "STARTED", "PROGRESS", "ERROR")
		for _, op := range ops {
			rule, _ := op.Params["rule"].(string)
			t.row(op.ID, op.State, rule, age(op.Started), counters(op), truncate(op.Error, 60))
		}
		return t.flush()
	}
	return cmd
}

func newOpGet(c *conn, stdout, stderr io.Writer, kind string) *cobra.Command {
	var (
		output   string
		wait     bool
		interval time.Duration
	)
	cmd := &cobra.Command{
		Use:   "get ID",
		Short: "Show a " + kind + "'s state and progress (--wait: follow it to its end)",
		Args:  usageArgs(cobra.ExactArgs(1)),
	}
	check := outputFlag(cmd, &output, "text", "json", "yaml")
	cmd.Flags().BoolVar(&wait, "wait", false, "follow it to its end, with progress")
	addPollFlag(cmd, &interval)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if err := check(); err != nil {
			return err
		}
		cl, err := c.client(cmd)
		if err != nil {
			return err
		}
		op, err := cl.GetOperation(cmd.Context(), kind, args[0])
		if err != nil {
			return failed(err)
		}
		if wait {
			if op, err = waitOp(cmd.Context(), cl, op, interval, stdout, stderr); err != nil || output == "text" {
				return err
			}
		}
		if output != "text" {
			return printAs(stdout, output, op)
		}
		t := newTable(stdout)
		t.row("ID:", op.ID)
		t.row("State:", op.State)
		t.row("Params:", compactJSON(op.Params))
		t.row("Progress:", counters(op))
		t.row("Started:", when(op.Started))
		if op.Finished != nil {
			t.row("Finished:", when(*op.Finished))
		}
		if op.Error != "" {
			t.row("Error:", op.Error)
		}
		if err := t.flush(); err != nil {
			return err
		}
		return failed(op.Err())
	}
	return cmd
}

func newReplayCancel(c *conn, stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "cancel ID",
		Short: "Cancel a running replay",
		Args:  usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := c.client(cmd)
			if err != nil {
				return err
			}
			op, err := cl.CancelReplay(cmd.Context(), args[0])
			if err != nil {
				return failed(err)
			}
			if op.Done() && op.State != client.StateCancelled {
				fmt.Fprintf(stdout, "replay %s had already %s\n", op.ID, op.State)
				return nil
			}
			fmt.Fprintf(stdout, "replay %s cancelled\n", op.ID)
			return nil
		},
	}
}
