package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/eventbridge-dev/eventbridge/pkg/client"
)

func newApply(c *conn, stdout, stderr io.Writer) *cobra.Command {
	var (
		file   string
		dryRun bool
	)
	cmd := &cobra.Command{
		Use:   "apply -f FILE",
		Short: "Create or update the sources, targets and rules of a config file",
		Long: `Make the bridge's sources, targets and rules match a file in the config file
format (FILE, or - for stdin): targets first, then rules, then sources,
each created or replaced through the API, whatever the order of the file.
So a new source's first events (a poll's first run, a stream read from the
start) find the rules of the same file in place. A rule may name only
targets that exist and sources that exist or are in FILE; if such a source
then fails to apply, the rule stays and takes nothing from it until it is
applied. A changed source is replaced: the bridge stops the running one
(waiting up to 30 s for it to finish) and then starts the new one; a new
version that cannot start leaves the old one stopped and the source failed.
Events the old one had stored stay in the bus and are routed as usual.
Each is reported as created, configured
(changed) or unchanged. The other sections (bus, api, log, ...) are skipped
with a note: they take effect when a bridge starts.

References are sent as written. The bridge expands ${secret:NAME} (a
secret declared under secrets: in the bridge's own config file) in secret
fields, and refuses ${env:NAME} and ${file:PATH}: through the API they
would read the bridge's environment and files. The API never shows secret
values, so a resource that holds one is sent again on every apply
(reported as configured); prefer ${secret:NAME}, which compares exactly.
A secrets: section in FILE is skipped like bus: and api:.

Resources from the bridge's own config file cannot be changed through the
API: apply reports the conflict and goes on. Nothing is deleted: resources
not in FILE stay (use delete -f to remove a file's resources).

--dry-run compares only, and names the fields that would change.
The exit status is 1 if any resource failed, 2 if the file cannot be read.`,
		Example: `  eventbridge apply -f pipeline.yaml
  eventbridge apply -f pipeline.yaml --dry-run
  cat pipeline.yaml | eventbridge apply -f -`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				return usageErrorf("-f FILE is required")
			}
			m, err := readManifest(file, cmd.InOrStdin())
			if err != nil {
				return err
			}
			cl, err := c.client(cmd)
			if err != nil {
				return err
			}
			if len(m.skipped) > 0 {
				fmt.Fprintf(stderr, "note: %s: skipped %s: only sources, targets and rules are applied; the rest takes effect when a bridge starts\n", m.path, strings.Join(m.skipped, ", "))
			}
			if len(m.entries) == 0 {
				fmt.Fprintf(stderr, "note: %s: no sources, targets or rules\n", m.path)
				return nil
			}
			bad := 0
			for _, e := range m.entries {
				if err := applyOne(cmd.Context(), cl, m, e, dryRun, stdout); err != nil {
					bad++
					printEntryError(stderr, m, e, err)
				}
			}
			if bad > 0 {
				return failed(fmt.Errorf("%d of %d resources not applied", bad, len(m.entries)))
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "config file to apply (- for stdin)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "compare only: print what would change")
	_ = cmd.MarkFlagFilename("file", "yaml", "yml", "json")
	return cmd
}

// applyOne creates or replaces one resource and prints what it did.
func applyOne(ctx context.Context, cl *client.Client, m *manifest, e entry, dryRun bool, stdout io.Writer) error {
	cur, err := cl.Get(ctx, e.kind, e.name)
	if err != nil && !client.IsNotFound(err) {
		return err
	}
	if cur == nil {
		if dryRun {
			fmt.Fprintf(stdout, "%s created (dry run)\n", e)
			return nil
		}
		if _, _, err := cl.Put(ctx, e.kind, e.name, e.spec, &client.PutOptions{CreateOnly: true, PendingSources: m.pendingSources(e)}); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s created\n", e)
		return nil
	}
	d := compareSpec(e.kind, e.spec, cur.Spec)
	var notes []string
	switch {
	case d.equal() && !d.secrets:
		fmt.Fprintf(stdout, "%s unchanged\n", e)
		return nil
	case d.equal() && cur.Origin == client.OriginFile:
		// Its secrets cannot be compared, and it cannot be changed anyway.
		fmt.Fprintf(stdout, "%s unchanged (from the config file %s; secret values not compared)\n", e, cur.File)
		return nil
	case d.equal():
		notes = append(notes, "secret values sent again: the API does not show them")
	case dryRun && cur.Origin == client.OriginFile:
		return fmt.Errorf("defined in the config file %s, which the API cannot change (%s differ)", cur.File, strings.Join(d.changed, ", "))
	case dryRun:
		notes = append(notes, "changed: "+strings.Join(d.changed, ", "))
	}
	if dryRun {
		notes = append([]string{"dry run"}, notes...)
	} else {
		_, _, err := cl.Put(ctx, e.kind, e.name, e.spec, &client.PutOptions{IfMatch: cur.Revision, PendingSources: m.pendingSources(e)})
		if client.IsPreconditionFailed(err) {
			return fmt.Errorf("%s changed while being applied; apply again", e)
		}
		if err != nil {
			return err
		}
	}
	if len(notes) > 0 {
		fmt.Fprintf(stdout, "%s configured (%s)\n", e, strings.Join(notes, "; "))
	} else {
		fmt.Fprintf(stdout, "%s configured\n", e)
	}
	return nil
}

// pendingSources are the sources of the file, which apply writes after
// the rules: a rule of the file may name them before they exist.
func (m *manifest) pendingSources(e entry) []string {
	if e.kind != client.KindRule {
		return nil
	}
	var out []string
	for _, s := range m.entries {
		if s.kind == client.KindSource {
			out = append(out, s.name)
		}
	}
	return out
}

// printEntryError prints an error about one resource of a file, with the
// place in the file of each field error.
func printEntryError(w io.Writer, m *manifest, e entry, err error) {
	ae, ok := asAPIError(err)
	if !ok {
		fmt.Fprintf(w, "error: %s: %v\n", e, err)
		return
	}
	lines := ae.Lines()
	fmt.Fprintf(w, "error: %s: %s\n", e, lines[0])
	for _, l := range lines[1 : len(lines)-len(ae.Errors)] {
		fmt.Fprintf(w, "  %s\n", l)
	}
	for _, fe := range ae.Errors {
		p := e.fieldPath(fe.Field)
		fmt.Fprintf(w, "  %s: %s: %s\n", m.where(p), p, fe.Reason)
	}
}
