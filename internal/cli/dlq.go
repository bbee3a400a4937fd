package cli

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/eventbridge-dev/eventbridge/pkg/client"
)

func newDLQ(c *conn, stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dlq",
		Short: "List, show, redrive and purge a rule's dead letters",
		Long: `A dead letter is a delivery that failed for good: the target refused the
event (reason permanent), attempts or time ran out (exhausted, expired), or
the transform failed (transform). Each rule keeps its own; a subscription's
are those of the rule it runs as, subscription-<id>.`,
		Args: groupArgs,
		RunE: groupRun,
	}
	cmd.AddCommand(newDLQList(c, stdout), newDLQShow(c, stdout), newDLQRedrive(c, stdout, stderr), newDLQPurge(c, stdout, stderr),
		withUse(newOpList(c, stdout, client.OpRedrive), "redrives", "List the redrives the bridge remembers"),
		withUse(newOpGet(c, stdout, stderr, client.OpRedrive), "redrive-status ID", "Show a redrive's state and progress (--wait: follow it)"))
	return cmd
}

func withUse(cmd *cobra.Command, use, short string) *cobra.Command {
	cmd.Use, cmd.Short, cmd.Long = use, short, ""
	return cmd
}

// groupArgs refuses unknown subcommands of a command that only groups
// others.
func groupArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageErrorf("unknown command %q for %q\nsee: %s --help", args[0], cmd.CommandPath(), cmd.CommandPath())
	}
	return nil
}

func groupRun(cmd *cobra.Command, _ []string) error { return cmd.Help() }

// letterFilter holds the flags that select dead letters.
type letterFilter struct {
	target, typ, source, reason string
}

func (f *letterFilter) addFlags(cmd *cobra.Command, c *conn) {
	fs := cmd.Flags()
	fs.StringVar(&f.target, "target", "", "only letters for this target")
	fs.StringVar(&f.typ, "type", "", "only letters of events of this type")
	fs.StringVar(&f.source, "source", "", "only letters of events from this source (the attribute)")
	fs.StringVar(&f.reason, "reason", "", "only letters dead for this reason: permanent, exhausted, expired, transform")
	_ = cmd.RegisterFlagCompletionFunc("target", flagNames(c, client.KindTarget))
	_ = cmd.RegisterFlagCompletionFunc("reason", cobra.FixedCompletions([]string{"permanent", "exhausted", "expired", "transform"}, cobra.ShellCompDirectiveNoFileComp))
}

func (f *letterFilter) empty() bool { return *f == letterFilter{} }

func (f *letterFilter) filter() *client.DeadLetterFilter {
	return &client.DeadLetterFilter{Target: f.target, Type: f.typ, Source: f.source, Reason: f.reason}
}

func newDLQList(c *conn, stdout io.Writer) *cobra.Command {
	var (
		f      letterFilter
		output string
		limit  int
	)
	cmd := &cobra.Command{
		Use:               "list RULE",
		Short:             "List a rule's dead letters, oldest first",
		Example:           "  eventbridge dlq list orders-to-audit --reason permanent",
		Args:              usageArgs(cobra.ExactArgs(1)),
		ValidArgsFunction: completeKind(c, client.KindRule, false),
	}
	check := outputFlag(cmd, &output, "table", "json", "yaml")
	f.addFlags(cmd, c)
	cmd.Flags().IntVar(&limit, "limit", 500, "show at most this many (0: all)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if err := check(); err != nil {
			return err
		}
		cl, err := c.client(cmd)
		if err != nil {
			return err
		}
		q := &client.DeadLetterQuery{Target: f.target, Type: f.typ, Source: f.source, Reason: f.reason}
		var letters []*client.DeadLetter
		more := false
		for l, err := range cl.AllDeadLetters(cmd.Context(), args[0], q) {
			if err != nil {
				return failed(err)
			}
			if limit > 0 && len(letters) == limit {
				more = true
				break
			}
			letters = append(letters, l)
		}
		if output != "table" {
			return printAs(stdout, output, map[string]any{"items": nonNil(letters)})
		}
		if len(letters) == 0 {
			fmt.Fprintf(stdout, "No dead letters for rule %s.\n", args[0])
			return nil
		}
		t := newTable(stdout, "ID", "TARGET", "REASON", "ATTEMPTS", "STATUS", "TYPE", "EVENT ID", "AGE", "ERROR")
		for _, l := range letters {
			status := ""
			if l.LastStatus > 0 {
				status = strconv.Itoa(l.LastStatus)
			}
			t.row(strconv.FormatUint(l.ID, 10), l.Target, l.Reason, strconv.Itoa(l.Attempts), status,
				str(l.Event["type"]), str(l.Event["id"]), age(l.Time), truncate(l.Error, 60))
		}
		if err := t.flush(); err != nil {
			return err
		}
		if more {
			fmt.Fprintf(stdout, "(more not shown: --limit %d; --limit 0 shows all)\n", limit)
		}
		return nil
	}
	return cmd
}

func str(v any) string {
	if v == nil {
		return ""
	}
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}

func parseID(s string) (uint64, error) {
	id, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, usageErrorf("%q is not a dead letter id (a number, from dlq list)", s)
	}
	return id, nil
}

func newDLQShow(c *conn, stdout io.Writer) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:               "show RULE ID",
		Short:             "Show a dead letter: why it failed, and its event",
		Example:           "  eventbridge dlq show orders-to-audit 42",
		Args:              usageArgs(cobra.ExactArgs(2)),
		ValidArgsFunction: completeKind(c, client.KindRule, false),
	}
	check := outputFlag(cmd, &output, "text", "json", "yaml")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if err := check(); err != nil {
			return err
		}
		id, err := parseID(args[1])
		if err != nil {
			return err
		}
		cl, err := c.client(cmd)
		if err != nil {
			return err
		}
		l, err := cl.DeadLetter(cmd.Context(), args[0], id)
		if err != nil {
			return failed(err)
		}
		if output != "text" {
			return printAs(stdout, output, l)
		}
		t := newTable(stdout)
		t.row("ID:", strconv.FormatUint(l.ID, 10))
		t.row("Rule:", l.Rule)
		t.row("Target:", l.Target)
		t.row("Reason:", l.Reason)
		t.row("Attempts:", strconv.Itoa(l.Attempts))
		if l.LastStatus > 0 {
			t.row("Last status:", strconv.Itoa(l.LastStatus))
		}
		t.row("Error:", l.Error)
		if l.FirstTry != nil {
			t.row("First try:", when(*l.FirstTry))
		}
		t.row("Dead since:", when(l.Time))
		if err := t.flush(); err != nil {
			return err
		}
		b, _ := json.MarshalIndent(l.Event, "  ", "  ")
		fmt.Fprintf(stdout, "Event:\n  %s\n", b)
		return nil
	}
	return cmd
}

func newDLQRedrive(c *conn, stdout, stderr io.Writer) *cobra.Command {
	var (
		f        letterFilter
		all      bool
		detach   bool
		interval time.Duration
	)
	cmd := &cobra.Command{
		Use:   "redrive RULE (ID... | --all | --type T | --target T | --source S | --reason R)",
		Short: "Send dead letters back for delivery, and follow the redrive",
		Long: `Send a rule's dead letters back to their targets: the given ids, every
letter (--all), or those the filter flags select. Each goes back to the
retry queue with its attempts reset and leaves the dead-letter queue; if
its target still fails, it comes back as a new dead letter.

The command follows the redrive with a progress bar (progress lines when
stdout is not a terminal) and prints a summary; --detach prints the
redrive's id and returns at once. The exit status is 1 if the redrive
failed, or if a given id matched no dead letter.`,
		Example: `  eventbridge dlq redrive orders-to-audit 42
  eventbridge dlq redrive orders-to-audit --type com.example.order.created
  eventbridge dlq redrive orders-to-audit --all`,
		Args:              usageArgs(cobra.MinimumNArgs(1)),
		ValidArgsFunction: completeKind(c, client.KindRule, false),
		RunE: func(cmd *cobra.Command, args []string) error {
			rule, ids := args[0], args[1:]
			if len(ids) == 0 && f.empty() && !all {
				return usageErrorf("say which letters: ids, --all, or --target/--type/--source/--reason\nsee: %s --help", cmd.CommandPath())
			}
			if all && (len(ids) > 0 || !f.empty()) {
				return usageErrorf("--all selects every letter: give no ids or filters with it")
			}
			filter := f.filter()
			for _, s := range ids {
				id, err := parseID(s)
				if err != nil {
					return err
				}
				filter.IDs = append(filter.IDs, id)
			}
			cl, err := c.client(cmd)
			if err != nil {
				return err
			}
			var op *client.Operation
			if len(ids) == 1 && f.empty() {
				op, err = cl.RedriveOne(cmd.Context(), rule, filter.IDs[0])
			} else {
				op, err = cl.Redrive(cmd.Context(), rule, filter)
			}
			if err != nil {
				return failed(err)
			}
			if detach {
				fmt.Fprintln(stdout, op.ID)
				return nil
			}
			op, err = waitOp(cmd.Context(), cl, op, interval, stdout, stderr)
			if err != nil {
				return err
			}
			switch n := op.Progress["matched"]; {
			case len(ids) == 1 && n == 0:
				return failed(fmt.Errorf("no dead letter %s of rule %s matched", ids[0], rule))
			case len(ids) > 0 && n < int64(len(ids)):
				return failed(fmt.Errorf("%d of the %d ids given matched no dead letter of rule %s", int64(len(ids))-n, len(ids), rule))
			}
			if op.Progress["matched"] == 0 {
				fmt.Fprintln(stdout, "no dead letters matched")
			}
			return nil
		},
	}
	f.addFlags(cmd, c)
	cmd.Flags().BoolVar(&all, "all", false, "redrive every dead letter of the rule")
	cmd.Flags().BoolVar(&detach, "detach", false, "print the redrive's id and return")
	addPollFlag(cmd, &interval)
	return cmd
}

func newDLQPurge(c *conn, stdout, stderr io.Writer) *cobra.Command {
	var (
		f   letterFilter
		yes bool
	)
	cmd := &cobra.Command{
		Use:   "purge RULE [--yes]",
		Short: "Delete a rule's dead letters for good (admin scope)",
		Long: `Delete a rule's dead letters: all of them, or those the filter flags select.
It cannot be undone, so it asks first; --yes does not ask (needed when
stdin is not a terminal). Needs a token with the admin scope.`,
		Example:           "  eventbridge dlq purge orders-to-audit --reason transform --yes",
		Args:              usageArgs(cobra.ExactArgs(1)),
		ValidArgsFunction: completeKind(c, client.KindRule, false),
		RunE: func(cmd *cobra.Command, args []string) error {
			rule := args[0]
			cl, err := c.client(cmd)
			if err != nil {
				return err
			}
			if !yes {
				in, ok := cmd.InOrStdin().(*os.File)
				if !ok || !term.IsTerminal(int(in.Fd())) {
					return usageErrorf("purging cannot be undone: add --yes (stdin is not a terminal to ask on)")
				}
				what := "all dead letters"
				if !f.empty() {
					what = "the selected dead letters"
				}
				fmt.Fprintf(stderr, "Delete %s of rule %s for good? [y/N] ", what, rule)
				answer, _ := bufio.NewReader(in).ReadString('\n')
				if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
					fmt.Fprintln(stderr, "nothing purged")
					return &exitError{code: codeFailed}
				}
			}
			n, err := cl.Purge(cmd.Context(), rule, f.filter())
			if err != nil {
				return failed(err)
			}
			fmt.Fprintf(stdout, "%d dead letters of rule %s purged\n", n, rule)
			return nil
		},
	}
	f.addFlags(cmd, c)
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask")
	return cmd
}
