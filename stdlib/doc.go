package stdlib

import (
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"go.starlark.net/syntax"
)

// Function is one public function of a standard library, documented by its
// doc string: what `ovnrun doc` shows beside the builtins.
type Function struct {
	Name    string
	Library string // as load() names it: @stdlib//lab.star
	// Signature is the def line's parameters with their defaults, in the
	// form the builtins' signatures take.
	Signature string
	Doc       string
}

// Load is the load() statement that brings the function into a runbook.
func (f Function) Load() string { return fmt.Sprintf("load(%q, %q)", f.Library, f.Name) }

// Functions returns the public functions (names not starting with _) of
// every library in fsys, by library then in the order defined. A public
// function without a doc string is an error: `ovnrun doc` would have
// nothing to say about it.
func Functions(fsys fs.FS) ([]Function, error) {
	names, err := fs.Glob(fsys, "*.star")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var out []Function
	for _, name := range names {
		src, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		fns, err := functions("@stdlib//"+name, src)
		if err != nil {
			return nil, err
		}
		out = append(out, fns...)
	}
	return out, nil
}

func functions(library string, src []byte) ([]Function, error) {
	f, err := (&syntax.FileOptions{Set: true, TopLevelControl: true}).Parse(library, src, 0)
	if err != nil {
		return nil, err
	}
	text := sourceText(src)
	var out []Function
	for _, stmt := range f.Stmts {
		def, ok := stmt.(*syntax.DefStmt)
		if !ok || strings.HasPrefix(def.Name.Name, "_") {
			continue
		}
		doc := docString(def)
		if doc == "" {
			return nil, fmt.Errorf("%s: %s has no doc string", def.Def, def.Name.Name)
		}
		var params []string
		for _, p := range def.Params {
			switch p := p.(type) {
			case *syntax.Ident:
				params = append(params, p.Name)
			case *syntax.BinaryExpr: // name = default
				params = append(params, p.X.(*syntax.Ident).Name+"="+text(p.Y))
			case *syntax.UnaryExpr: // *, *args, **kwargs
				if p.X != nil {
					params = append(params, p.Op.String()+p.X.(*syntax.Ident).Name)
				}
			}
		}
		out = append(out, Function{Name: def.Name.Name, Library: library, Doc: doc,
			Signature: def.Name.Name + "(" + strings.Join(params, ", ") + ")"})
	}
	return out, nil
}

// docString is the string literal that starts the body of def, dedented.
func docString(def *syntax.DefStmt) string {
	if len(def.Body) == 0 {
		return ""
	}
	e, ok := def.Body[0].(*syntax.ExprStmt)
	if !ok {
		return ""
	}
	lit, ok := e.X.(*syntax.Literal)
	if !ok || lit.Token != syntax.STRING {
		return ""
	}
	lines := strings.Split(strings.TrimSpace(lit.Value.(string)), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSpace(l)
	}
	return strings.Join(lines, "\n")
}

// sourceText returns a function giving the source text of an expression, so
// a default shows as the library writes it.
func sourceText(src []byte) func(syntax.Expr) string {
	starts := []int{0}
	for i, c := range src {
		if c == '\n' {
			starts = append(starts, i+1)
		}
	}
	offset := func(p syntax.Position) int { return starts[p.Line-1] + int(p.Col) - 1 }
	return func(e syntax.Expr) string {
		from, to := e.Span()
		return string(src[offset(from):offset(to)])
	}
}
