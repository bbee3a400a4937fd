package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/eventbridge-dev/eventbridge/pkg/client"
)

func newDelete(c *conn, stdout, stderr io.Writer) *cobra.Command {
	var (
		file           string
		ignoreNotFound bool
	)
	cmd := &cobra.Command{
		Use:   "delete (KIND NAME... | -f FILE)",
		Short: "Delete sources, targets or rules, by name or as a config file lists them",
		Long: `Delete the named resources of a kind, or every source, target and rule a
config file defines (-f FILE, - for stdin): rules first, then sources, then
targets, so that nothing is deleted while a rule still names it.

` + kindsHelp + `
A resource from the bridge's config file, or a source or target that a rule
still names, is not deleted: the error says which. The exit status is 1 if
any was not deleted.`,
		Example: `  eventbridge delete rule orders-to-audit
  eventbridge delete tgt chat audit
  eventbridge delete -f pipeline.yaml`,
		ValidArgsFunction: completeKindAndNames(c),
		RunE: func(cmd *cobra.Command, args []string) error {
			var todo []entry
			switch {
			case file != "" && len(args) > 0:
				return usageErrorf("give KIND NAME... or -f FILE, not both")
			case file != "":
				m, err := readManifest(file, cmd.InOrStdin())
				if err != nil {
					return err
				}
				// Rules first: the API keeps a source or target that a
				// rule names. Then sources, so that intake stops before
				// the targets go.
				for _, k := range []client.Kind{client.KindRule, client.KindSource, client.KindTarget} {
					for _, e := range m.entries {
						if e.kind == k {
							todo = append(todo, e)
						}
					}
				}
			case len(args) < 2:
				return usageErrorf("give KIND and at least one NAME, or -f FILE\nsee: %s --help", cmd.CommandPath())
			default:
				kind, err := client.ParseKind(args[0])
				if err != nil {
					return usageError(err)
				}
				for _, n := range args[1:] {
					todo = append(todo, entry{kind: kind, name: n})
				}
			}
			cl, err := c.client(cmd)
			if err != nil {
				return err
			}
			bad := 0
			for _, e := range todo {
				err := cl.Delete(cmd.Context(), e.kind, e.name, nil)
				switch {
				case err == nil:
					fmt.Fprintf(stdout, "%s deleted\n", e)
				case client.IsNotFound(err) && ignoreNotFound:
				default:
					bad++
					printError(stderr, e.String(), err)
				}
			}
			switch {
			case bad > 0 && len(todo) == 1:
				return &exitError{code: codeFailed} // the error is printed
			case bad > 0:
				return failed(fmt.Errorf("%d of %d not deleted", bad, len(todo)))
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "delete what this config file defines (- for stdin)")
	cmd.Flags().BoolVar(&ignoreNotFound, "ignore-not-found", false, "a resource that does not exist is not an error")
	_ = cmd.MarkFlagFilename("file", "yaml", "yml", "json")
	return cmd
}

// printError prints an error about one thing, the API's field errors on
// their own lines.
func printError(w io.Writer, what string, err error) {
	lines := errorLines(err)
	fmt.Fprintf(w, "error: %s: %s\n", what, lines[0])
	for _, l := range lines[1:] {
		fmt.Fprintf(w, "  %s\n", l)
	}
}

func newPauseResume(c *conn, stdout io.Writer, pause bool) *cobra.Command {
	verb, done, short := "resume", "resumed", "Resume paused rules, sources or targets"
	if pause {
		verb, done, short = "pause", "paused", "Pause rules (their events wait on disk), sources or targets"
	}
	return &cobra.Command{
		Use:   verb + " [rule|source|target] NAME...",
		Short: short,
		Long: short + `.

Without a kind, the names are rules. A paused rule's deliveries wait on
disk. A paused source takes no events: one that answers requests (http,
webhooks, grpc) refuses them (HTTP 503 with Retry-After), the others stop
consuming or polling. A paused target's deliveries wait in RETRY, using no
attempt. The flag is stored: it survives a restart.`,
		Example: "  eventbridge " + verb + " orders-to-audit\n  eventbridge " + verb + " source orders\n  eventbridge " + verb + " target chat",
		Args:    usageArgs(cobra.MinimumNArgs(1)),
		ValidArgsFunction: func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			if len(args) > 0 {
				if kind, err := client.ParseKind(args[0]); err == nil {
					return completeKind(c, kind, true)(cmd, args[1:], toComplete)
				}
			}
			return completeKind(c, client.KindRule, true)(cmd, args, toComplete)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := c.client(cmd)
			if err != nil {
				return err
			}
			kind := client.KindRule
			if len(args) > 1 {
				if k, err := client.ParseKind(args[0]); err == nil {
					kind, args = k, args[1:]
				}
			}
			for _, name := range args {
				var err error
				if pause {
					_, err = cl.PauseResource(cmd.Context(), kind, name)
				} else {
					_, err = cl.ResumeResource(cmd.Context(), kind, name)
				}
				if err != nil {
					return failed(err)
				}
				fmt.Fprintf(stdout, "%s/%s %s\n", kind, name, done)
			}
			return nil
		},
	}
}
