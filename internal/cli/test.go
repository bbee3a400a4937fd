package cli

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/eventbridge-dev/eventbridge/internal/ruletest"
)

func newTest(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "test [FILES...]",
		Short: "Run rule test files: events in, expected match and output out",
		Long: `Run rule test files without traffic. A test file (e.g. rules_test.yaml, kept
beside the config) names a config and, for each test, a rule (by name, or
inline), events, and whether each must match and what the transform must
output. With no FILES, every *_test.yaml in the current directory runs.

  config: eventbridge.yaml
  tests:
    - name: big orders are audited
      rule: orders-to-audit
      events:
        - event: {specversion: "1.0", id: "1", source: /shop, type: com.example.order.created, data: {total: 42}}
          match: true
          output: {type: com.example.order.audited, data: {order_source: /shop, total: 42}}

"output" lists the members to compare (data is compared whole); "error" is a
substring the transform's error must contain. The exit status is 1 if a case
fails, 2 if a file cannot be read.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			files := args
			if len(files) == 0 {
				files, _ = filepath.Glob("*_test.yaml")
				if len(files) == 0 {
					return &exitError{code: 2, err: fmt.Errorf("no *_test.yaml files here; name the files to run")}
				}
			}
			var total ruletest.Report
			for _, f := range files {
				rep, err := ruletest.RunFile(context.Background(), f, stdout)
				if err != nil {
					return &exitError{code: 2, err: err}
				}
				total.Cases += rep.Cases
				total.Failed += rep.Failed
			}
			if total.Failed > 0 {
				fmt.Fprintf(stdout, "FAIL: %d of %d cases failed\n", total.Failed, total.Cases)
				return &exitError{code: 1, err: fmt.Errorf("")}
			}
			fmt.Fprintf(stdout, "ok: %d cases passed in %d file(s)\n", total.Cases, len(files))
			return nil
		},
	}
}
