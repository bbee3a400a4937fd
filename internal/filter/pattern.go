package filter

import (
	"bytes"
	"errors"

	"github.com/eventbridge-dev/eventbridge/internal/filter/pattern"
)

// Pattern is a compiled EventBridge event pattern, matched against the
// event's JSON form.
type Pattern struct {
	p *pattern.Pattern
}

// Match implements Filter.
func (p *Pattern) Match(in *Input) bool { return p.p.Match(in.Form()) }

// CompilePattern compiles an EventBridge pattern given as JSON. Its error
// is an Errors value with paths under "pattern".
func CompilePattern(raw []byte) (*Pattern, error) {
	f, err := compilePattern(raw)
	if err != nil {
		return nil, err
	}
	return f.(*Pattern), nil
}

// compilePattern compiles an EventBridge event pattern.
func compilePattern(raw []byte) (Filter, error) {
	if t := bytes.TrimSpace(raw); bytes.Equal(t, []byte("{}")) {
		return nil, Errors{errorf("pattern", "an empty pattern is refused, as EventBridge refuses it; leave the filter out to match every event")}
	}
	p, err := pattern.Compile(raw)
	if err != nil {
		var pes pattern.Errors
		if errors.As(err, &pes) {
			out := make(Errors, len(pes))
			for i, pe := range pes {
				path := "pattern"
				if pe.Path != "" {
					path += "." + pe.Path
				}
				out[i] = &Error{Path: path, Reason: pe.Reason}
			}
			return nil, out
		}
		return nil, Errors{errorf("pattern", "%v", err)}
	}
	return &Pattern{p: p}, nil
}

var _ Filter = (*Pattern)(nil)

// MatchObject matches any JSON object (decoded with encoding/json), not
// only a CloudEvent's form: EventBridge-shaped events can be tested as
// they are.
func (p *Pattern) MatchObject(obj map[string]any) bool { return p.p.Match(obj) }
