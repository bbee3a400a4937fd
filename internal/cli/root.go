// Package cli holds the eventbridge commands (cobra). Everything but
// serve, version, validate and test talks to a running bridge over HTTP.
package cli

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	_ "github.com/eventbridge-dev/eventbridge/internal/connector/all" // compile in every connector
	"github.com/eventbridge-dev/eventbridge/internal/version"
)

// exitError carries a process exit code.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// Execute runs the command line and returns the process exit code: 0 when
// it went well, 1 when the API refused or an operation failed, 2 for usage
// errors.
func Execute(args []string) int {
	root := NewRoot(os.Stdout, os.Stderr)
	root.SetArgs(args)
	return report(os.Stderr, root.Execute())
}

// NewRoot builds the command tree.
func NewRoot(stdout, stderr io.Writer) *cobra.Command {
	var showVersion bool
	root := &cobra.Command{
		Use:   "eventbridge",
		Short: "Route CloudEvents from everywhere to everywhere, durably",
		Long: `eventbridge ingests events (HTTP, webhooks, brokers, polling), stores each as a
CloudEvent in a durable bus (NATS JetStream, embedded by default), matches
them against rules, transforms them and delivers them to targets with
retries and a dead-letter queue.

Start with:  eventbridge serve --config examples/quickstart.yaml
Then send:   eventbridge send --type com.example.order.created --source /shop --data '{"total":42}'`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				hint := "see: eventbridge --help"
				if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
					hint = "did you mean " + strings.Join(s, " or ") + "?"
				}
				return usageErrorf("unknown command %q for %q\n%s", args[0], cmd.CommandPath(), hint)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			if showVersion {
				fmt.Fprintln(stdout, version.JSON())
				return nil
			}
			return cmd.Help()
		},
	}
	root.SuggestionsMinimumDistance = 2
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.Flags().BoolVarP(&showVersion, "version", "v", false, "print the version as JSON and exit")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(err) })
	c := &conn{}
	c.addFlags(root.PersistentFlags())
	root.AddGroup(&cobra.Group{ID: "run", Title: "Running a bridge, checking configs:"}, &cobra.Group{ID: "api", Title: "Managing a running bridge (through its API):"})
	for _, cmd := range []*cobra.Command{newServe(), newVersion(stdout), newSend(c, stdout), newValidate(stdout), newTest(stdout), newPattern(stdout), newTally(stdout)} {
		cmd.GroupID = "run"
		root.AddCommand(cmd)
	}
	for _, cmd := range []*cobra.Command{
		newGet(c, stdout, stderr), newDescribe(c, stdout), newApply(c, stdout, stderr), newDelete(c, stdout, stderr),
		newPauseResume(c, stdout, true), newPauseResume(c, stdout, false),
		newDLQ(c, stdout, stderr), newReplay(c, stdout, stderr), newTail(c, stdout, stderr),
		newEvents(c, stdout), newEventTypes(c, stdout), newState(c, stdout), newLogs(c, stdout),
		newImport(c, stdout),
	} {
		cmd.GroupID = "api"
		root.AddCommand(cmd)
	}
	return root
}

func newVersion(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: `Print {"Version":..,"Build":..,"GitTag":..}`,
		Args:  cobra.NoArgs,
		Run: func(*cobra.Command, []string) {
			fmt.Fprintln(stdout, version.JSON())
		},
	}
}
