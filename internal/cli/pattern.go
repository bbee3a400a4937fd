package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/eventbridge-dev/eventbridge/internal/filter"
)

func newPattern(stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "pattern",
		Short: "Work with Amazon EventBridge event patterns",
	}
	var pat, ev string
	test := &cobra.Command{
		Use:   "test --pattern P --event E",
		Short: "Print true or false: does the event match the pattern?",
		Long: `Test an EventBridge event pattern against one event, without a bridge.

P and E are JSON strings, or @file to read one. E may be any JSON object: a
CloudEvent in its JSON form, or an EventBridge-shaped event as it is.
Prints true or false and exits 0; prints the compile error and exits 2 when
the pattern is invalid (or E is not a JSON object).`,
		Example: `  eventbridge pattern test --pattern '{"source":["aws.ec2"],"detail":{"state":["running"]}}' \
    --event '{"source":"aws.ec2","detail":{"state":"running"}}'
  eventbridge pattern test --pattern @rule.json --event @event.json`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			praw, err := readArg(pat)
			if err != nil {
				return &exitError{code: 2, err: fmt.Errorf("--pattern: %w", err)}
			}
			eraw, err := readArg(ev)
			if err != nil {
				return &exitError{code: 2, err: fmt.Errorf("--event: %w", err)}
			}
			p, err := filter.CompilePattern(praw)
			if err != nil {
				fmt.Fprintln(stdout, err)
				return &exitError{code: 2, err: fmt.Errorf("invalid pattern")}
			}
			var obj map[string]any
			dec := json.NewDecoder(bytes.NewReader(eraw))
			if err := dec.Decode(&obj); err != nil || obj == nil {
				return &exitError{code: 2, err: fmt.Errorf("--event must be a JSON object: %v", err)}
			}
			fmt.Fprintln(stdout, p.MatchObject(obj))
			return nil
		},
	}
	test.Flags().StringVar(&pat, "pattern", "", "the pattern (JSON, or @file)")
	test.Flags().StringVar(&ev, "event", "", "the event (JSON object, or @file)")
	_ = test.MarkFlagRequired("pattern")
	_ = test.MarkFlagRequired("event")
	cmd.AddCommand(test)
	return cmd
}

func readArg(s string) ([]byte, error) {
	if strings.HasPrefix(s, "@") {
		if s == "@-" {
			return io.ReadAll(os.Stdin)
		}
		return os.ReadFile(s[1:])
	}
	return []byte(s), nil
}
