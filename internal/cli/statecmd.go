package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/eventbridge-dev/eventbridge/pkg/client"
)

func newState(c *conn, stdout io.Writer) *cobra.Command {
	var (
		q      client.StateQuery
		output string
	)
	cmd := &cobra.Command{
		Use:   "state",
		Short: "Show the current state: the last event per (source, subject) or named key",
		Long: `Show the bridge's current state: for every (source, subject) of the events
it took in, the last event, newest first; sources with a state_key keep their
events under the key it names instead. --source, --subject, --resource and
--key-prefix narrow the list; --key shows the entry under one key. With --key,
or with both --source and --subject, finding nothing is an error (exit 1).
-o json or -o yaml print the events in full.`,
		Example: `  eventbridge state
  eventbridge state --source /cluster/node-1/ptp
  eventbridge state --source /cluster/node-1/ptp --subject sync-state -o json
  eventbridge state --key cluster-1/ens1f0 -o yaml`,
		Args: usageArgs(cobra.NoArgs),
	}
	check := outputFlag(cmd, &output, "table", "json", "yaml")
	f := cmd.Flags()
	f.StringVar(&q.Source, "source", "", "only events with this source attribute")
	f.StringVar(&q.Subject, "subject", "", "only events with this subject attribute")
	f.StringVar(&q.Resource, "resource", "", "only events taken in by this source resource")
	f.StringVar(&q.Key, "key", "", "the entry under this state key")
	f.StringVar(&q.KeyPrefix, "key-prefix", "", "only entries whose key starts with this")
	f.IntVar(&q.Limit, "limit", 100, "show at most this many (1-1000)")
	_ = cmd.RegisterFlagCompletionFunc("resource", flagNames(c, client.KindSource))
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if err := check(); err != nil {
			return err
		}
		if q.Limit < 1 || q.Limit > 1000 {
			return usageErrorf("--limit: must be between 1 and 1000")
		}
		cl, err := c.client(cmd)
		if err != nil {
			return err
		}
		l, err := cl.State(cmd.Context(), &q)
		if err != nil {
			return failed(err)
		}
		if output != "table" {
			return printAs(stdout, output, map[string]any{"items": nonNil(l.Items)})
		}
		if len(l.Items) == 0 {
			fmt.Fprintln(stdout, "No state.")
			return nil
		}
		t := newTable(stdout, "KEY", "SOURCE", "SUBJECT", "TYPE", "ID", "UPDATED", "RESOURCE")
		for _, e := range l.Items {
			t.row(e.Key, e.Source, e.Subject, str(e.Event["type"]), str(e.Event["id"]), age(e.Updated), e.Resource)
		}
		if err := t.flush(); err != nil {
			return err
		}
		if len(l.Items) == q.Limit {
			fmt.Fprintf(stdout, "(at most %d shown: --limit)\n", q.Limit)
		}
		return nil
	}
	return cmd
}
