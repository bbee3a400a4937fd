package api

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"github.com/eventbridge-dev/eventbridge/internal/api/problem"
)

// isYAML reports whether a request body is YAML (application/yaml,
// application/x-yaml or text/yaml).
func isYAML(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == "application/yaml" || mt == "application/x-yaml" || mt == "text/yaml"
}

// decodeSpec reads a resource spec: JSON, or YAML when the request says so.
// For YAML it also returns a function giving the line of a field path
// ("spec.filter.type"; the document is the spec), so validation errors
// can say where they are (0: unknown).
func decodeSpec(r *http.Request) (json.RawMessage, func(path string) int, *problem.Problem) {
	if !isYAML(r) {
		var raw json.RawMessage
		if p := decodeInto(r, &raw); p != nil {
			return nil, nil, p
		}
		return raw, nil, nil
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, nil, problem.New(problem.InvalidRequest, "body: "+err.Error())
	}
	if len(b) > maxBody {
		return nil, nil, problem.New(problem.TooLarge, "the body is larger than 4 MiB")
	}
	f, err := parser.ParseBytes(b, 0)
	if err == nil {
		var raw []byte
		if raw, err = yaml.YAMLToJSON(b); err == nil {
			if !strings.HasPrefix(strings.TrimSpace(string(raw)), "{") {
				p := problem.New(problem.InvalidResource, "the spec must be a map")
				p.Errors = append(p.Errors, problem.FieldError{Field: "spec", Reason: "want a map", Line: 1})
				return nil, nil, p
			}
			return raw, func(path string) int { return yamlLine(f, path) }, nil
		}
	}
	p := problem.New(problem.InvalidResource, "the body is not valid YAML: "+yaml.FormatError(err, false, false))
	fe := problem.FieldError{Field: "spec", Reason: strings.TrimSpace(err.Error())}
	var ye yaml.Error
	if errors.As(err, &ye) {
		fe.Reason = strings.TrimSpace(ye.GetMessage())
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			fe.Line = tk.Position.Line
		}
	}
	p.Errors = append(p.Errors, fe)
	return nil, nil, p
}

// decodeInto is decode, with a JSON-only message.
func decodeInto(r *http.Request, v any) *problem.Problem {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return problem.New(problem.UnsupportedMediaType, "send application/json or application/yaml")
	}
	return decode(r, v)
}

// locateErrors fills in the lines of a problem's field errors.
func locateErrors(p *problem.Problem, line func(string) int) *problem.Problem {
	if p == nil || line == nil {
		return p
	}
	for i := range p.Errors {
		if p.Errors[i].Line == 0 {
			p.Errors[i].Line = line(p.Errors[i].Field)
		}
	}
	return p
}

// yamlLine is the line of path in f, or of its nearest parent that is in
// the file; 0 if none is.
func yamlLine(f *ast.File, path string) int {
	path = strings.TrimPrefix(strings.TrimPrefix(path, "spec"), ".")
	for {
		if path == "" {
			return 0
		}
		if yp, err := yaml.PathString("$." + quoteYAMLPath(path)); err == nil {
			if n, err := yp.FilterFile(f); err == nil && n != nil {
				if tk := n.GetToken(); tk != nil && tk.Position != nil {
					return tk.Position.Line
				}
			}
		}
		path = parentPath(path)
	}
}

// quoteYAMLPath quotes path segments that YAML path syntax would misread.
func quoteYAMLPath(path string) string {
	segs := strings.Split(path, ".")
	for i, s := range segs {
		base, idx, _ := strings.Cut(s, "[")
		if base != "" && strings.ContainsAny(base, "-/ :*$@") {
			base = "'" + base + "'"
		}
		if idx != "" {
			base += "[" + idx
		}
		segs[i] = base
	}
	return strings.Join(segs, ".")
}

func parentPath(path string) string {
	if strings.HasSuffix(path, "]") {
		if i := strings.LastIndexByte(path, '['); i > 0 {
			return path[:i]
		}
	}
	if i := strings.LastIndexByte(path, '.'); i > 0 {
		return path[:i]
	}
	return ""
}
