package cli

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/eventbridge-dev/eventbridge/internal/config"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

func newValidate(stdout io.Writer) *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "validate [FILE | -f FILE]",
		Short: "Check a config file and print every problem with its path and line",
		Long: `Check a config file without starting anything. The file is the argument, or
-f FILE (default eventbridge.yaml). Every problem of every resource is printed
as FILE:LINE: PATH: REASON, and the exit status is 1 if there is any.`,
		Example: `  eventbridge validate eventbridge.yaml
  eventbridge validate -f eventbridge.yaml`,
		Args: usageArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				if cmd.Flags().Changed("file") && path != args[0] {
					return usageErrorf("two config files (%s and -f %s): give one\nsee: %s --help", args[0], path, cmd.CommandPath())
				}
				path = args[0]
			}
			_, err := config.Load(path)
			if err == nil {
				fmt.Fprintf(stdout, "%s: valid\n", path)
				return nil
			}
			var ve *spec.ValidationError
			if !errors.As(err, &ve) {
				return &exitError{code: 1, err: err}
			}
			for _, p := range ve.Problems {
				loc := path
				if p.Line > 0 {
					loc = fmt.Sprintf("%s:%d", path, p.Line)
				}
				if p.Path != "" {
					fmt.Fprintf(stdout, "%s: %s: %s\n", loc, p.Path, p.Reason)
				} else {
					fmt.Fprintf(stdout, "%s: %s\n", loc, p.Reason)
				}
			}
			return &exitError{code: 1, err: fmt.Errorf("%s: %d problem(s)", path, len(ve.Problems))}
		},
	}
	cmd.Flags().StringVarP(&path, "file", "f", "eventbridge.yaml", "config file")
	return cmd
}
