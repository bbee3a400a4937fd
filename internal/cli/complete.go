package cli

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/eventbridge-dev/eventbridge/pkg/client"
)

// Shell completion of resource names asks the bridge, briefly: a bridge
// that does not answer in time completes nothing.
const completionTimeout = 2 * time.Second

var kindWords = []string{"sources", "targets", "rules", "source", "target", "rule", "src", "tgt"}

// completeNames lists the names of a kind that start with prefix.
func completeNames(cmd *cobra.Command, c *conn, kind client.Kind, prefix string, exclude []string) []string {
	cl, err := c.client(cmd)
	if err != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), completionTimeout)
	defer cancel()
	var out []string
	for r, err := range cl.All(ctx, kind, &client.ListOptions{Limit: 1000}) {
		if err != nil {
			break
		}
		if strings.HasPrefix(r.Name, prefix) && !slices.Contains(exclude, r.Name) {
			out = append(out, r.Name)
		}
	}
	return out
}

// completeKindAndNames completes KIND then names of that kind.
func completeKindAndNames(c *conn) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if len(args) == 0 {
			return kindWords, cobra.ShellCompDirectiveNoFileComp
		}
		kind, err := client.ParseKind(args[0])
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		if cmd.Name() == "describe" && len(args) > 1 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return completeNames(cmd, c, kind, toComplete, args[1:]), cobra.ShellCompDirectiveNoFileComp
	}
}

// completeKind completes names of one kind, for the first argument only
// unless many is set.
func completeKind(c *conn, kind client.Kind, many bool) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 && !many {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return completeNames(cmd, c, kind, toComplete, args), cobra.ShellCompDirectiveNoFileComp
	}
}
