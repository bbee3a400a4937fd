package connector_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The packages a connector written in another module uses. A module
// cannot import internal/...; so no exported name of these may show an
// internal type (it could neither be named nor implemented there).
var publicContract = []string{"../component", "../connector", "../eventbridge", "../netguard", "../spec"}

func TestPublicSignaturesUseNoInternalTypes(t *testing.T) {
	fset := token.NewFileSet()
	checked := 0
	for _, dir := range publicContract {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range files {
			if strings.HasSuffix(path, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			internal := map[string]string{} // local name -> import path
			for _, imp := range f.Imports {
				p, _ := strconv.Unquote(imp.Path.Value)
				if !strings.Contains(p, "/internal/") && !strings.HasSuffix(p, "/internal") {
					continue
				}
				name := p[strings.LastIndex(p, "/")+1:]
				if imp.Name != nil {
					name = imp.Name.Name
				}
				internal[name] = p
			}
			for _, n := range exportedParts(f) {
				checked++
				ast.Inspect(n, func(n ast.Node) bool {
					if sel, ok := n.(*ast.SelectorExpr); ok {
						if id, ok := sel.X.(*ast.Ident); ok && internal[id.Name] != "" {
							t.Errorf("%s: exported API uses %s.%s (%s)", fset.Position(sel.Pos()), id.Name, sel.Sel.Name, internal[id.Name])
						}
					}
					return true
				})
			}
		}
	}
	if checked < 30 {
		t.Fatalf("only %d exported declarations found: the test reads the wrong files", checked)
	}
}

// exportedParts returns what other packages see of f's exported names:
// function signatures (not bodies), types, exported struct fields and
// interface methods, and the types and values of exported vars and
// consts.
func exportedParts(f *ast.File) []ast.Node {
	var out []ast.Node
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if !d.Name.IsExported() {
				continue
			}
			if d.Recv != nil && !exportedRecv(d.Recv) {
				continue
			}
			out = append(out, d.Type)
		case *ast.GenDecl:
			for _, s := range d.Specs {
				switch s := s.(type) {
				case *ast.TypeSpec:
					if !s.Name.IsExported() {
						continue
					}
					if st, ok := s.Type.(*ast.StructType); ok {
						for _, fld := range st.Fields.List {
							if len(fld.Names) == 0 || fld.Names[0].IsExported() {
								out = append(out, fld.Type)
							}
						}
						continue
					}
					out = append(out, s.Type)
				case *ast.ValueSpec:
					for i, n := range s.Names {
						if !n.IsExported() {
							continue
						}
						if s.Type != nil {
							out = append(out, s.Type)
						}
						if i < len(s.Values) {
							out = append(out, s.Values[i])
						}
					}
				}
			}
		}
	}
	return out
}

func exportedRecv(r *ast.FieldList) bool {
	t := r.List[0].Type
	if s, ok := t.(*ast.StarExpr); ok {
		t = s.X
	}
	if ix, ok := t.(*ast.IndexExpr); ok {
		t = ix.X
	}
	id, ok := t.(*ast.Ident)
	return ok && id.IsExported()
}
