package cli

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/eventbridge-dev/eventbridge/pkg/client"
)

func newEvents(c *conn, stdout io.Writer) *cobra.Command {
	var (
		q          client.EventQuery
		from, to   string
		output     string
		limitTotal int
	)
	cmd := &cobra.Command{
		Use:   "events",
		Short: "List archived events, oldest first (--order desc: newest first)",
		Long: `List the events the bridge has stored (the archive), oldest first or, with
--order desc, newest first, selected by type, source attribute, source
resource and the time they were stored.
TIME is RFC 3339, a date, or a duration meaning that long ago (2h).`,
		Example: `  eventbridge events --type com.example.order.created --from 1h
  eventbridge events --order desc --limit 20
  eventbridge events --source-name github -o json`,
		Args: usageArgs(cobra.NoArgs),
	}
	check := outputFlag(cmd, &output, "table", "json", "yaml", "line")
	f := cmd.Flags()
	f.StringVar(&q.Type, "type", "", "only events of this type")
	f.StringVar(&q.Source, "source", "", "only events with this source attribute")
	f.StringVar(&q.SourceName, "source-name", "", "only events taken in by this source resource")
	f.StringVar(&from, "from", "", "only events stored from this time")
	f.StringVar(&to, "to", "", "only events stored until this time")
	f.StringVar(&q.Order, "order", "asc", "asc: oldest first; desc: newest first")
	f.IntVar(&limitTotal, "limit", 100, "show at most this many (0: all)")
	_ = cmd.RegisterFlagCompletionFunc("order", cobra.FixedCompletions([]string{"asc", "desc"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("source-name", flagNames(c, client.KindSource))
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if err := check(); err != nil {
			return err
		}
		if q.Order != "asc" && q.Order != "desc" {
			return usageErrorf("--order: %q is not asc or desc", q.Order)
		}
		now := time.Now()
		var err error
		if from != "" {
			if q.From, err = parseTime(from, now); err != nil {
				return usageErrorf("--from: %v", err)
			}
		}
		if to != "" {
			if q.To, err = parseTime(to, now); err != nil {
				return usageErrorf("--to: %v", err)
			}
		}
		if limitTotal > 0 {
			q.Limit = min(limitTotal, 1000)
		}
		cl, err := c.client(cmd)
		if err != nil {
			return err
		}
		var items []*client.ArchivedEvent
		more := false
		for ev, err := range cl.AllEvents(cmd.Context(), &q) {
			if err != nil {
				return failed(err)
			}
			if limitTotal > 0 && len(items) == limitTotal {
				more = true
				break
			}
			items = append(items, ev)
		}
		switch output {
		case "json", "yaml":
			return printAs(stdout, output, map[string]any{"items": nonNil(items)})
		case "line":
			for _, ev := range items {
				fmt.Fprintln(stdout, eventLine(ev.Event))
			}
			return nil
		}
		if len(items) == 0 {
			fmt.Fprintln(stdout, "No events.")
			return nil
		}
		t := newTable(stdout, "SEQ", "STORED", "SOURCE NAME", "TYPE", "SOURCE", "ID")
		for _, ev := range items {
			t.row(strconv.FormatUint(ev.Seq, 10), ev.Stored.Local().Format(time.RFC3339), ev.SourceName,
				str(ev.Event["type"]), str(ev.Event["source"]), str(ev.Event["id"]))
		}
		if err := t.flush(); err != nil {
			return err
		}
		if more {
			fmt.Fprintf(stdout, "(more not shown: --limit %d; --limit 0 shows all)\n", limitTotal)
		}
		return nil
	}
	return cmd
}

func newEventTypes(c *conn, stdout io.Writer) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "eventtypes",
		Short: "List the event types the bridge has seen, with their schemas (-o json)",
		Long: `List the (source, type) pairs the bridge has taken in, how many of each and
when; -o json or -o yaml add the JSON Schema of each type's data, inferred
from samples.`,
		Example: `  eventbridge eventtypes
  eventbridge eventtypes -o json | jq '.items[] | select(.type == "com.example.order.created") | .schema'`,
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
		l, err := cl.EventTypes(cmd.Context())
		if err != nil {
			return failed(err)
		}
		if output != "table" {
			l.Items = nonNil(l.Items)
			return printAs(stdout, output, l)
		}
		if len(l.Items) == 0 {
			fmt.Fprintln(stdout, "No event types seen yet.")
			return nil
		}
		t := newTable(stdout, "TYPE", "SOURCE", "COUNT", "FIRST SEEN", "LAST SEEN", "CONTENT TYPE")
		for _, et := range l.Items {
			t.row(et.Type, et.Source, strconv.FormatInt(et.Count, 10), age(et.FirstSeen), age(et.LastSeen), et.DataContentType)
		}
		if err := t.flush(); err != nil {
			return err
		}
		if l.Overflow > 0 {
			fmt.Fprintf(stdout, "(%d events of types beyond the catalog's size)\n", l.Overflow)
		}
		return nil
	}
	return cmd
}
