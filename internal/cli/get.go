package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/eventbridge-dev/eventbridge/pkg/client"
)

const kindsHelp = `KIND is source (src), target (tgt) or rule, singular or plural.`

func newGet(c *conn, stdout, stderr io.Writer) *cobra.Command {
	var (
		output    string
		selectors []string
	)
	cmd := &cobra.Command{
		Use:   "get KIND [NAME...]",
		Short: "List sources, targets or rules, with their state",
		Long: `List resources of a kind, or show the named ones, with their state.

` + kindsHelp + `
The table shows, for sources and targets, NAME TYPE ORIGIN STATE AGE, and for
rules NAME TARGETS ORIGIN STATE AGE; -o json or -o yaml show each resource
whole (spec with secrets as "***", and status); -o name prints kind/name.`,
		Example: `  eventbridge get rules
  eventbridge get tgt -l team=payments
  eventbridge get rule orders-to-audit -o yaml`,
		Args: usageArgs(cobra.MinimumNArgs(1)),
	}
	checkOutput := outputFlag(cmd, &output, "table", "json", "yaml", "name")
	cmd.Flags().StringArrayVarP(&selectors, "selector", "l", nil, "label selector key=value or key (repeatable; ANDed)")
	cmd.ValidArgsFunction = completeKindAndNames(c)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if err := checkOutput(); err != nil {
			return err
		}
		kind, err := client.ParseKind(args[0])
		if err != nil {
			return usageError(err)
		}
		cl, err := c.client(cmd)
		if err != nil {
			return err
		}
		ctx := cmd.Context()
		var items []*client.Resource
		missing := 0
		if len(args) > 1 {
			if len(selectors) > 0 {
				return usageErrorf("give names or -l, not both")
			}
			var errs []error
			items, errs = getEach(ctx, cl, kind, args[1:])
			for i, err := range errs {
				switch {
				case err == nil:
				case len(args) == 2 || !client.IsNotFound(err):
					return failed(err)
				default:
					missing++
					printError(stderr, string(kind)+"/"+args[1+i], err)
				}
			}
		} else {
			items, err = client.Collect(cl.All(ctx, kind, &client.ListOptions{Labels: selectors}))
			if err != nil {
				return failed(err)
			}
			if output != "name" {
				// The list carries no status: read each resource. One
				// deleted meanwhile is left out.
				names := make([]string, len(items))
				for i, r := range items {
					names[i] = r.Name
				}
				var errs []error
				items, errs = getEach(ctx, cl, kind, names)
				for _, err := range errs {
					if err != nil && !client.IsNotFound(err) {
						return failed(err)
					}
				}
			}
		}
		if err := printResources(stdout, kind, output, items, len(args) == 2); err != nil {
			return err
		}
		if missing > 0 {
			return &exitError{code: codeFailed} // the errors are printed
		}
		return nil
	}
	return cmd
}

// printResources prints resources in an output format; one alone (asked
// for by name) is printed as itself rather than in a list.
func printResources(stdout io.Writer, kind client.Kind, output string, items []*client.Resource, one bool) error {
	switch output {
	case "json", "yaml":
		if one && len(items) == 1 {
			return printAs(stdout, output, items[0])
		}
		return printAs(stdout, output, map[string]any{"items": nonNil(items)})
	case "name":
		for _, r := range items {
			fmt.Fprintf(stdout, "%s/%s\n", r.Kind, r.Name)
		}
		return nil
	}
	if len(items) == 0 {
		fmt.Fprintf(stdout, "No %s found.\n", kind.Plural())
		return nil
	}
	return resourceTable(stdout, kind, items)
}

// getEach reads resources by name, a few at a time. It returns those
// found, in the order given, and an error (or nil) per name.
func getEach(ctx context.Context, cl *client.Client, kind client.Kind, names []string) ([]*client.Resource, []error) {
	out := make([]*client.Resource, len(names))
	errs := make([]error, len(names))
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i, n := range names {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			out[i], errs[i] = cl.Get(ctx, kind, n)
		}()
	}
	wg.Wait()
	var found []*client.Resource
	for _, r := range out {
		if r != nil {
			found = append(found, r)
		}
	}
	return found, errs
}

func resourceTable(w io.Writer, kind client.Kind, items []*client.Resource) error {
	second := "TYPE"
	if kind == client.KindRule {
		second = "TARGETS"
	}
	t := newTable(w, "NAME", second, "ORIGIN", "STATE", "AGE")
	for _, r := range items {
		col := r.SpecType()
		if kind == client.KindRule {
			col = strings.Join(ruleRefs(r.Spec).Targets, ",")
		}
		t.row(r.Name, col, r.Origin, stateOf(r), age(r.Created))
	}
	return t.flush()
}

// stateOf is a resource's state, with "paused" for a paused rule.
func stateOf(r *client.Resource) string {
	if r.Status == nil {
		if r.Paused {
			return "paused"
		}
		return ""
	}
	return r.Status.State
}

type refs struct {
	Targets []string `json:"targets"`
	Sources []string `json:"sources"`
}

func ruleRefs(spec json.RawMessage) refs {
	var r refs
	_ = json.Unmarshal(spec, &r)
	return r
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func newDescribe(c *conn, stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "describe KIND NAME",
		Short: "Show a resource in detail: spec, status, components, counters",
		Long: `Show one resource for people: where it comes from, its labels, its spec
(secrets as "***"), its state and error, its running components and their
health, and its counters.

` + kindsHelp,
		Example: `  eventbridge describe rule orders-to-audit
  eventbridge describe src github`,
		Args:              usageArgs(cobra.ExactArgs(2)),
		ValidArgsFunction: completeKindAndNames(c),
		RunE: func(cmd *cobra.Command, args []string) error {
			kind, err := client.ParseKind(args[0])
			if err != nil {
				return usageError(err)
			}
			cl, err := c.client(cmd)
			if err != nil {
				return err
			}
			r, err := cl.Get(cmd.Context(), kind, args[1])
			if err != nil {
				return failed(err)
			}
			return describe(stdout, r)
		},
	}
	return cmd
}

func describe(w io.Writer, r *client.Resource) error {
	kv := newTable(w)
	kv.row("Name:", r.Name)
	kv.row("Kind:", string(r.Kind))
	origin := r.Origin
	if r.File != "" {
		origin += " (" + r.File + ")"
	}
	kv.row("Origin:", origin)
	kv.row("Revision:", fmt.Sprint(r.Revision))
	kv.row("Created:", when(r.Created))
	kv.row("Updated:", when(r.Updated))
	kv.row("Labels:", strings.Join(client.LabelSelectors(r.Labels), ","))
	if r.Kind == client.KindRule {
		kv.row("Paused:", fmt.Sprint(r.Paused))
	}
	if st := r.Status; st != nil {
		state := st.State
		if !st.Since.IsZero() {
			state += " since " + when(st.Since)
		}
		kv.row("State:", state)
		if st.Error != "" {
			kv.row("Error:", st.Error)
		}
		if st.Revision > 0 && st.Revision != r.Revision {
			kv.row("Applied:", fmt.Sprintf("revision %d (not yet %d)", st.Revision, r.Revision))
		}
	}
	if err := kv.flush(); err != nil {
		return err
	}
	if st := r.Status; st != nil && len(st.Problems) > 0 {
		fmt.Fprintln(w, "Problems:")
		for _, p := range st.Problems {
			fmt.Fprintf(w, "  %s\n", p)
		}
	}
	fmt.Fprintln(w, "Spec:")
	if json.Valid(r.Spec) {
		var b strings.Builder
		if err := printYAML(&b, r.Spec); err == nil {
			for _, line := range strings.Split(strings.TrimRight(b.String(), "\n"), "\n") {
				fmt.Fprintln(w, "  "+line)
			}
		}
	}
	st := r.Status
	if st == nil {
		return nil
	}
	if len(st.Components) > 0 {
		fmt.Fprintln(w, "Components:")
		t := newTable(w, "  NAME", "STATE", "SINCE", "LAST ERROR")
		for _, name := range slices.Sorted(maps.Keys(st.Components)) {
			cs := st.Components[name]
			t.row("  "+name, cs.State, age(cs.Since), cs.LastError)
		}
		if err := t.flush(); err != nil {
			return err
		}
	}
	if len(st.Counters) > 0 {
		fmt.Fprintln(w, "Counters:")
		t := newTable(w)
		for _, name := range slices.Sorted(maps.Keys(st.Counters)) {
			t.row("  "+name+":", fmt.Sprintf("%g", st.Counters[name]))
		}
		return t.flush()
	}
	return nil
}
