package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/eventbridge-dev/eventbridge/internal/oran/ceproxystore"
	"github.com/eventbridge-dev/eventbridge/pkg/client"
)

func newImport(c *conn, stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "import",
		Short: "Import subscriptions from another system (oran: cloud-event-proxy)",
		Args:  groupArgs,
		RunE:  groupRun,
	}
	cmd.AddCommand(newImportOran(c, stdout))
	return cmd
}

func newImportOran(c *conn, stdout io.Writer) *cobra.Command {
	var (
		storePath string
		dryRun    bool
		output    string
	)
	cmd := &cobra.Command{
		Use:   "oran --store-path DIR [--dry-run]",
		Short: "Import the O-RAN subscriptions and publishers of a cloud-event-proxy store",
		Long: `Read the store directory of Red Hat's cloud-event-proxy (its --store-path:
sub.json and pub.json of the v1 API, one <clientID>.json per v2 client) and
store its subscriptions and publishers in the running bridge with the same
ids, without the subscription handshake, so consumers keep receiving events
without subscribing again.

What is already there (the same id, or the same endpoint subscribed to the
same resource) is skipped; an endpoint the bridge does not allow (the SSRF
rules of api.allow_private_addresses) is refused. Files that are not store
files are listed and left alone. Running it twice imports nothing new.
--dry-run shows the plan and stores nothing. Needs the write scope.`,
		Example: `  eventbridge import oran --store-path /var/lib/cloud-event-proxy/store --dry-run
  eventbridge import oran --store-path ./store --server https://bridge:8080`,
		Args: usageArgs(cobra.NoArgs),
	}
	check := outputFlag(cmd, &output, "text", "json")
	f := cmd.Flags()
	f.StringVar(&storePath, "store-path", "", "cloud-event-proxy's store directory (required)")
	f.BoolVar(&dryRun, "dry-run", false, "print what would be imported, skipped and refused; store nothing")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if err := check(); err != nil {
			return err
		}
		if storePath == "" {
			return usageErrorf("--store-path is required: cloud-event-proxy's store directory")
		}
		st, err := ceproxystore.Read(storePath)
		if err != nil {
			return failed(err)
		}
		items := make([]client.OranImportItem, 0, len(st.Entries))
		for _, e := range st.Entries {
			items = append(items, client.OranImportItem{
				Kind: e.Kind, Version: e.Version, ID: e.ID, EndpointURI: e.EndpointURI,
				URILocation: e.URILocation, Resource: e.Resource, File: e.File,
			})
		}
		cl, err := c.client(cmd)
		if err != nil {
			return err
		}
		res, err := cl.ImportOran(cmd.Context(), items, dryRun)
		if err != nil {
			return failed(err)
		}
		if output == "json" {
			return printJSON(stdout, struct {
				*client.OranImportResult
				Files []ceproxystore.Note `json:"files_skipped"`
			}{res, st.Skipped})
		}
		printImport(stdout, res, st.Skipped)
		return nil
	}
	return cmd
}

func printImport(w io.Writer, res *client.OranImportResult, files []ceproxystore.Note) {
	verb := "imported"
	if res.DryRun {
		verb = "would import"
	}
	line := func(o client.OranImportOutcome) {
		fmt.Fprintf(w, "  %s %s %s -> %s (%s)", o.Kind, o.ID, o.Resource, o.EndpointURI, o.File)
		if o.Reason != "" {
			fmt.Fprintf(w, ": %s", o.Reason)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "%s %d:\n", verb, len(res.Imported))
	for _, o := range res.Imported {
		line(o)
	}
	fmt.Fprintf(w, "skipped %d (already there):\n", len(res.Skipped))
	for _, o := range res.Skipped {
		line(o)
	}
	fmt.Fprintf(w, "refused %d:\n", len(res.Refused))
	for _, o := range res.Refused {
		line(o)
	}
	if len(files) > 0 {
		fmt.Fprintf(w, "files and entries not read %d:\n", len(files))
		for _, n := range files {
			if n.ID != "" {
				fmt.Fprintf(w, "  %s (%s): %s\n", n.File, n.ID, n.Reason)
			} else {
				fmt.Fprintf(w, "  %s: %s\n", n.File, n.Reason)
			}
		}
	}
	if res.DryRun {
		fmt.Fprintln(w, "dry run: nothing was stored")
	}
}
