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
		Use:   "validate -f FILE",
		Short: "Check a config file and print every problem with its path and line",
		Long: `Check a config file without starting anything. Every problem is printed as
FILE:LINE: PATH: REASON, and the exit status is 1 if there is any.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
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
